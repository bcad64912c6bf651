/**
 * `ks.request` as the mini-program API behaves, over fetch: `content-type: application/json` on every call
 * (as WeChat's does, even on a bodyless DELETE), success for any HTTP status (the body parsed when
 * `dataType` is `json`, else text), `fail` only when no answer came.
 */
import type { KsRequestOptions } from '../../src/runtime-client/index.ts';

/** Sends one call; `rewrite` maps the URL the page asked for to the one to reach (a placeholder host → loopback). */
export function fakeKsRequest(options: KsRequestOptions, rewrite: (url: string) => string = (url) => url): void {
  const init: RequestInit = { method: options.method, headers: { 'content-type': 'application/json', ...options.header } };
  if (options.data !== undefined) init.body = JSON.stringify(options.data);
  fetch(rewrite(options.url), init).then(
    async (response) => {
      const text = await response.text();
      let data: unknown = text;
      if (options.dataType === 'json') {
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
      }
      options.success({ statusCode: response.status, data, header: Object.fromEntries(response.headers) });
    },
    (error: unknown) => options.fail({ errMsg: `request:fail ${error instanceof Error ? error.message : String(error)}` }),
  );
}
