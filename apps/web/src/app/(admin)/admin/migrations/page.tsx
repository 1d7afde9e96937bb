import type { Metadata } from 'next';
import { MigrateByPatternCard } from '@/components/mobility/migrate-pattern-card';
import { MigrationHistory } from '@/components/mobility/migration-history';
import { RequireRole } from '@/components/shell/require-role';

export const metadata: Metadata = { title: 'Migrations' };

export default function AdminMigrationsPage() {
  return (
    <RequireRole roles={['provider-admin']}>
      <MigrationHistory />
      <MigrateByPatternCard />
    </RequireRole>
  );
}
