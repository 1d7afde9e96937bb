import type { Metadata } from 'next';
import { PortalView } from './portal-view';

export const metadata: Metadata = { title: 'Portal' };

export default function PortalPage() {
  return <PortalView />;
}
