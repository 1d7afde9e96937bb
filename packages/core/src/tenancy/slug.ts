/** "Blue Corp" → "blue-corp". Empty when the name has no letters or digits. */
export function slugify(name: string): string {
  return (
    name
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      // Cut before trimming, so a cut that lands on a separator leaves no trailing hyphen.
      .slice(0, 60)
      .replace(/^-+|-+$/g, '')
  );
}
