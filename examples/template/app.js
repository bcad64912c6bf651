// The template's app: ONE runtime client for the whole mini-program, reached from pages as getApp().runtime.
// lib/ks-isv-runtime.js is src/runtime-client bundled by `npm run build:runtime-client` (do not edit it).
const { createRuntimeClient, ksLogin, ksRequest, ksStorage } = require('./lib/ks-isv-runtime.js');

// ks-isv's runtime root: the provider's PUBLIC_URL + /runtime/v1 (a placeholder here). Its host must be in
// the merchant's request domains (服务器域名 → request), or ks.request refuses the call: ks-isv sets those
// domains on every merchant through its domain policy.
const BASE_URL = 'https://isv.example.com/runtime/v1';

// The ext config ks-isv uploaded with THIS merchant's code. Read with ks.getExtConfigSync(): assumed from
// the sibling platforms (wx / tt / swan.getExtConfigSync), not from a Kuaishou page. What it returns is
// assumed too: the whole ext.json ({extAppId, ext}) or, as on WeChat, only its `ext` object; both are read.
function readExtConfig() {
  const config = typeof ks.getExtConfigSync === 'function' ? ks.getExtConfigSync() : undefined;
  return config && typeof config === 'object' ? config : {};
}

const extConfig = readExtConfig();
const ext = extConfig.ext && typeof extConfig.ext === 'object' ? extConfig.ext : extConfig;
// The merchant's mini-program: extAppId (ks-isv writes it into every upload), else an `appId` in the ext.
const appId = extConfig.extAppId || ext.appId || '';

App({
  globalData: { appId, ext },

  runtime: createRuntimeClient({
    baseUrl: BASE_URL,
    appId,
    request: ksRequest(ks),
    storage: ksStorage(ks),
    login: ksLogin(ks),
  }),

  onLaunch() {
    // Log in early, not inside the getPhoneNumber callback: a ks.login there may refresh the login state,
    // and the phone data would no longer open with the session's key (Kuaishou's 获取手机号 page).
    // A session kept from an earlier launch is reused; me() logs in again by itself if it has expired.
    this.ready = this.runtime
      .sessionToken()
      .then((token) => (token ? undefined : this.runtime.login()))
      .catch(() => undefined); // the page's 登录 button tries again and shows the error
  },
});
