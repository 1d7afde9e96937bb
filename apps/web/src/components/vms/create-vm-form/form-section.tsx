import { type ReactNode, useId } from 'react';
import { Card, CardHeader } from '@/components/ui/card';
import type { Draft } from './draft';

/** What every section of the form gets from the shell. */
export interface SectionProps {
  draft: Draft;
  /** Changes some fields of the draft. */
  update: (patch: Partial<Draft>) => void;
  /** The schema's message for a field (see validate.ts for keys), once it should be shown. */
  errorOf: (key: string) => string | undefined;
  /** Marks a field as visited on blur: from then on its error shows while the user types. */
  touch: (key: string) => () => void;
}

/** A card that screen readers announce as a named group. */
export function FormSection({
  title,
  description,
  action,
  children,
}: {
  title: string;
  description?: string;
  action?: ReactNode;
  children: ReactNode;
}) {
  const id = useId();
  return (
    <Card role="group" aria-labelledby={id}>
      <CardHeader id={id} title={title} description={description} actions={action} />
      <div className="flex flex-col gap-3 p-4">{children}</div>
    </Card>
  );
}
