import { notFound } from 'next/navigation';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The id of a detail page's URL (every object Fabric links to is named by a
 * UUID). A malformed one is a page that does not exist: the console's
 * not-found page, not the API's "Invalid UUID" with a Retry that cannot help.
 */
export function routeIdOrNotFound(id: string): string {
  if (!UUID.test(id)) notFound();
  return id;
}
