'use client';

import { BillCard, usePeriodPicker } from '@/components/chargeback/bill-view';
import { Card, CardBody } from '@/components/ui/card';
import { PageHeader } from '@/components/ui/page-header';

export function PortalBillView() {
  const { period, picker } = usePeriodPicker();
  return (
    <>
      <PageHeader
        title="Bill"
        description="What your virtual machines cost over a period, from metered usage and your provider's rates. Times are UTC."
      />
      <div className="flex flex-col gap-4">
        <Card>
          <CardBody>{picker}</CardBody>
        </Card>
        {period ? <BillCard period={period} /> : null}
      </div>
    </>
  );
}
