"use strict";
var __defProp = Object.defineProperty;
var __getOwnPropSymbols = Object.getOwnPropertySymbols;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __propIsEnum = Object.prototype.propertyIsEnumerable;
var __defNormalProp = (obj, key, value) => key in obj ? __defProp(obj, key, { enumerable: true, configurable: true, writable: true, value }) : obj[key] = value;
var __spreadValues = (a, b) => {
  for (var prop in b || (b = {}))
    if (__hasOwnProp.call(b, prop))
      __defNormalProp(a, prop, b[prop]);
  if (__getOwnPropSymbols)
    for (var prop of __getOwnPropSymbols(b)) {
      if (__propIsEnum.call(b, prop))
        __defNormalProp(a, prop, b[prop]);
    }
  return a;
};
var __publicField = (obj, key, value) => __defNormalProp(obj, typeof key !== "symbol" ? key + "" : key, value);
var __async = (__this, __arguments, generator) => {
  return new Promise((resolve, reject) => {
    var fulfilled = (value) => {
      try {
        step(generator.next(value));
      } catch (e) {
        reject(e);
      }
    };
    var rejected = (value) => {
      try {
        step(generator.throw(value));
      } catch (e) {
        reject(e);
      }
    };
    var step = (x) => x.done ? resolve(x.value) : Promise.resolve(x.value).then(fulfilled, rejected);
    step((generator = generator.apply(__this, __arguments)).next());
  });
};
Object.defineProperty(exports, Symbol.toStringTag, { value: "Module" });
class RuntimeClientError extends Error {
  constructor(status, code, message, details = {}, retryAfter) {
    super(message);
    __publicField(this, "status");
    __publicField(this, "code");
    __publicField(this, "details");
    __publicField(this, "retryAfter");
    __publicField(this, "name", "RuntimeClientError");
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }
}
function isRuntimeClientError(error, code) {
  if (typeof error !== "object" || error === null) return false;
  const candidate = error;
  return candidate.name === "RuntimeClientError" && (code === void 0 || candidate.code === code);
}
function sessionStorageKey(appId) {
  return `ks-isv:session:${appId}`;
}
const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);
function badResponse(status, what) {
  return new RuntimeClientError(status, "bad_response", `unexpected answer (HTTP ${status}): ${what}`);
}
function headerValue(header, name) {
  if (!header) return void 0;
  for (const [key, value] of Object.entries(header)) if (key.toLowerCase() === name) return value;
  return void 0;
}
function errorOf(response) {
  const status = response.statusCode;
  const error = isObject(response.data) ? response.data.error : void 0;
  if (!isObject(error) || typeof error.code !== "string") return badResponse(status, "not a ks-isv error body");
  const retryAfter = Number(headerValue(response.header, "retry-after"));
  return new RuntimeClientError(
    status,
    error.code,
    typeof error.message === "string" ? error.message : error.code,
    isObject(error.details) ? error.details : {},
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : void 0
  );
}
const isSessionInvalid = (error) => error instanceof RuntimeClientError && error.code === "session_invalid";
function readLogin(status, data) {
  if (!isObject(data) || typeof data.sessionToken !== "string" || typeof data.openId !== "string" || typeof data.expiresAt !== "number") {
    throw badResponse(status, "POST /sessions wants {sessionToken, openId, expiresAt}");
  }
  return { token: data.sessionToken, result: { openId: data.openId, expiresAt: data.expiresAt } };
}
function readMe(status, data) {
  const stringOrNull = (value) => value === null || typeof value === "string";
  if (!isObject(data) || typeof data.appId !== "string" || typeof data.openId !== "string" || !isObject(data.merchant) || !stringOrNull(data.merchant.name) || !isObject(data.ext) || !stringOrNull(data.phone)) {
    throw badResponse(status, "GET /me wants {appId, openId, merchant: {name}, ext, phone}");
  }
  return { appId: data.appId, openId: data.openId, merchant: { name: data.merchant.name }, ext: data.ext, phone: data.phone };
}
function readPhone(status, data) {
  if (!isObject(data) || typeof data.phoneNumber !== "string" || typeof data.purePhoneNumber !== "string" || typeof data.countryCode !== "string") {
    throw badResponse(status, "POST /me/phone wants {phoneNumber, purePhoneNumber, countryCode}");
  }
  return { phoneNumber: data.phoneNumber, purePhoneNumber: data.purePhoneNumber, countryCode: data.countryCode };
}
function createRuntimeClient(options) {
  var _a;
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const key = sessionStorageKey(options.appId);
  const autoRelogin = (_a = options.autoRelogin) != null ? _a : true;
  const { storage } = options;
  let inFlight;
  function send(method, path, data, token) {
    return __async(this, null, function* () {
      const header = {};
      if (token !== void 0) header.Authorization = `Bearer ${token}`;
      let response;
      try {
        response = yield options.request(data === void 0 ? { url: baseUrl + path, method, header } : { url: baseUrl + path, method, header, data });
      } catch (error) {
        if (error instanceof RuntimeClientError) throw error;
        throw new RuntimeClientError(0, "network_error", error instanceof Error ? error.message : String(error));
      }
      if (!isObject(response) || typeof response.statusCode !== "number") throw badResponse(0, "the transport gave no statusCode");
      if (response.statusCode < 200 || response.statusCode > 299) throw errorOf(response);
      return response;
    });
  }
  function forget(token) {
    return __async(this, null, function* () {
      if ((yield storage.get(key)) === token) yield storage.remove(key);
    });
  }
  function loginOnce() {
    inFlight != null ? inFlight : inFlight = (() => __async(null, null, function* () {
      let code;
      try {
        code = yield options.login();
      } catch (error) {
        if (error instanceof RuntimeClientError) throw error;
        throw new RuntimeClientError(0, "login_failed", error instanceof Error ? error.message : String(error));
      }
      const response = yield send("POST", "/sessions", { appId: options.appId, code }, void 0);
      const session = readLogin(response.statusCode, response.data);
      yield storage.set(key, session.token);
      return session;
    }))().finally(() => {
      inFlight = void 0;
    });
    return inFlight;
  }
  function withSession(method, path, data, read) {
    return __async(this, null, function* () {
      const token = yield storage.get(key);
      if (token === void 0 || token === "") throw new RuntimeClientError(0, "not_logged_in", "no session: call login() first");
      const attempt = (bearer) => __async(null, null, function* () {
        try {
          const response = yield send(method, path, data, bearer);
          return read(response.statusCode, response.data);
        } catch (error) {
          if (isSessionInvalid(error)) yield forget(bearer);
          throw error;
        }
      });
      try {
        return yield attempt(token);
      } catch (error) {
        if (!autoRelogin || !isSessionInvalid(error)) throw error;
      }
      const fresh = yield loginOnce();
      return attempt(fresh.token);
    });
  }
  return {
    login: () => __async(null, null, function* () {
      return (yield loginOnce()).result;
    }),
    me: () => withSession("GET", "/me", void 0, readMe),
    bindPhone: (detail) => withSession("POST", "/me/phone", { encryptedData: detail.encryptedData, iv: detail.iv }, readPhone),
    logout: () => __async(null, null, function* () {
      const token = yield storage.get(key);
      if (token === void 0 || token === "") return;
      try {
        yield send("DELETE", "/sessions/current", {}, token);
      } catch (error) {
        if (!isSessionInvalid(error)) throw error;
      } finally {
        yield forget(token);
      }
    }),
    sessionToken: () => __async(null, null, function* () {
      const token = yield storage.get(key);
      return token === "" ? void 0 : token;
    })
  };
}
function parseBody(text) {
  if (text === "") return "";
  try {
    return JSON.parse(text);
  } catch (e) {
    return text;
  }
}
function fetchRequest(fetchImpl = globalThis.fetch) {
  if (typeof fetchImpl !== "function") throw new TypeError("fetchRequest: no fetch here; pass one, or use ksRequest(ks) in a mini-program");
  return (request) => __async(null, null, function* () {
    const headers = __spreadValues({}, request.header);
    const init = { method: request.method, headers };
    if (request.data !== void 0) {
      init.body = JSON.stringify(request.data);
      if (!Object.keys(headers).some((name) => name.toLowerCase() === "content-type")) headers["content-type"] = "application/json";
    }
    const response = yield fetchImpl(request.url, init);
    const header = {};
    response.headers.forEach((value, key) => {
      header[key] = value;
    });
    return { statusCode: response.status, data: parseBody(yield response.text()), header };
  });
}
function ksRequest(ks) {
  return (request) => new Promise((resolve, reject) => {
    const options = {
      url: request.url,
      method: request.method,
      header: __spreadValues({}, request.header),
      dataType: "json",
      success: (result) => {
        var _a;
        return resolve({ statusCode: result.statusCode, data: result.data, header: (_a = result.header) != null ? _a : {} });
      },
      fail: (error) => {
        var _a;
        return reject(new RuntimeClientError(0, "network_error", (_a = error == null ? void 0 : error.errMsg) != null ? _a : "ks.request failed"));
      }
    };
    if (request.data !== void 0) options.data = request.data;
    ks.request(options);
  });
}
function memoryStorage(initial = {}) {
  const values = new Map(Object.entries(initial));
  return {
    get: (key) => values.get(key),
    set: (key, value) => {
      values.set(key, value);
    },
    remove: (key) => {
      values.delete(key);
    }
  };
}
function ksStorage(ks) {
  return {
    get: (key) => {
      const value = ks.getStorageSync(key);
      return typeof value === "string" && value !== "" ? value : void 0;
    },
    set: (key, value) => ks.setStorageSync(key, value),
    remove: (key) => ks.removeStorageSync(key)
  };
}
function ksLogin(ks) {
  return () => new Promise((resolve, reject) => {
    ks.login({
      success: (result) => {
        if (typeof (result == null ? void 0 : result.code) === "string" && result.code !== "") resolve(result.code);
        else reject(new RuntimeClientError(0, "login_failed", "ks.login gave no code"));
      },
      fail: (error) => {
        var _a;
        return reject(new RuntimeClientError(0, "login_failed", (_a = error == null ? void 0 : error.errMsg) != null ? _a : "ks.login failed"));
      }
    });
  });
}
exports.RuntimeClientError = RuntimeClientError;
exports.createRuntimeClient = createRuntimeClient;
exports.fetchRequest = fetchRequest;
exports.isRuntimeClientError = isRuntimeClientError;
exports.ksLogin = ksLogin;
exports.ksRequest = ksRequest;
exports.ksStorage = ksStorage;
exports.memoryStorage = memoryStorage;
exports.sessionStorageKey = sessionStorageKey;
