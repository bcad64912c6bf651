/** Query strings for the REST API, the same from the console and the CLI (openapi-fetch's `querySerializer`). */

/** The defined, non-empty values (an empty search box sends nothing, not `q=`). */
export function queryString(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    // The API's query parameters are all strings, numbers or booleans (undefined and null: not given).
    if ((typeof value === 'string' && value !== '') || typeof value === 'number' || typeof value === 'boolean') search.set(name, String(value));
  }
  return search.toString();
}
