'use client';

import { useEffect, useState } from 'react';

/**
 * A list's filters (its query string) survive a visit to one of its rows: the
 * list remembers them for this tab, and a breadcrumb or "back" link to the
 * list takes them along (they used to be dropped: ?state=running&q=web gone).
 */
const KEY = 'fabric:list-query:';

/** Called by a list view with its current query string ('' for none). */
export function useRememberListQuery(path: string, query: string): void {
  useEffect(() => {
    try {
      sessionStorage.setItem(KEY + path, query);
    } catch {
      // Storage refused (private mode, quota): the link falls back to the bare list.
    }
  }, [path, query]);
}

/** The list's URL with the filters it last had in this tab. Read after mount, so server and client render alike. */
export function useListHref(path: string): string {
  const [href, setHref] = useState(path);
  useEffect(() => {
    try {
      const query = sessionStorage.getItem(KEY + path);
      if (query) setHref(`${path}?${query}`);
    } catch {
      // As above: the bare list.
    }
  }, [path]);
  return href;
}
