'use client';

import { Card, CardBody, CardHeader } from '@/components/ui/card';
import { UsageCharts, type UsageScope } from './usage-charts';
import { useUsagePeriod } from './usage-period';

/** "Usage over time" for a VM or a host detail page: period chips and the usage charts. */
export function UsageCard({ scope, description }: { scope: UsageScope; description: string }) {
  const { period, picker } = useUsagePeriod('24h');
  return (
    <section aria-labelledby="usage-over-time-title" data-testid="usage-card">
      <Card>
        <CardHeader id="usage-over-time-title" title="Usage over time" description={description} />
        <div className="border-b border-border px-4 py-2.5">{picker}</div>
        <CardBody>
          <UsageCharts scope={scope} period={period} />
        </CardBody>
      </Card>
    </section>
  );
}
