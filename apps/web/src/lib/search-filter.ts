/** A page's filter: named text values, kept in its URL so every view is a deep link. */
export type SearchFilter<K extends string> = Partial<Record<K, string>>;

/** The filter values among `keys` as query parameters (empty values left out). */
export function paramsOf<K extends string>(
  filter: SearchFilter<K>,
  keys: readonly K[],
): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of keys) {
    const value = filter[key];
    if (value) params.set(key, value);
  }
  return params;
}

/** The filter a page's URL carries. */
export function filterFromSearch<K extends string>(
  search: URLSearchParams,
  keys: readonly K[],
): SearchFilter<K> {
  const filter: SearchFilter<K> = {};
  for (const key of keys) {
    const value = search.get(key)?.trim();
    if (value) filter[key] = value;
  }
  return filter;
}

/** The search part of a page's URL for a filter (`?a=1&b=2`, or nothing). */
export function searchFromFilter<K extends string>(
  filter: SearchFilter<K>,
  keys: readonly K[],
): string {
  const text = paramsOf(filter, keys).toString();
  return text ? `?${text}` : '';
}
