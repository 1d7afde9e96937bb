import { Badge, type Tone } from '@/components/ui/badge';

export type AuditResult = 'success' | 'denied' | 'failure';

const TONE: Record<AuditResult, Tone> = { success: 'green', denied: 'amber', failure: 'red' };

export function AuditResultBadge({ result }: { result: AuditResult }) {
  return <Badge tone={TONE[result]}>{result}</Badge>;
}
