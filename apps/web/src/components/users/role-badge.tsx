import { ROLE_LABELS, type Role } from '@fabric/core/shared/roles';
import { Badge, type Tone } from '@/components/ui/badge';

const TONE: Record<Role, Tone> = {
  'provider-admin': 'violet',
  finance: 'amber',
  'tenant-admin': 'blue',
  'tenant-user': 'neutral',
};

export function RoleBadge({ role }: { role: Role }) {
  return <Badge tone={TONE[role]}>{ROLE_LABELS[role]}</Badge>;
}
