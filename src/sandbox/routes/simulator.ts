/**
 * The mini-program simulator, `GET /sandbox/apps/:appId`: the template's page as a merchant's user sees it.
 * Shows the online version (or `?version=experience`: the development version) and its ext config, lets
 * one pick or create a Kuaishou user, and plays the template's code: ks.login → `POST {runtimeUrl}/sessions`
 * → `GET /me`; getPhoneNumber → `POST /me/phone`; logout → `DELETE /sessions/current`, every call to the
 * provider through the sandbox's ks.request (`/sandbox/api/apps/:appId/request`).
 */
import type { FastifyInstance } from 'fastify';
import type { PackageVersion } from '../model.ts';
import type { SandboxRuntime } from '../runtime.ts';
import { escapeHtml, page, send } from './pages.ts';

/** JSON inside a `<script type="application/json">`: no `<` can end the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function extView(version: PackageVersion): string {
  let document: unknown;
  try {
    document = JSON.parse(version.extJson);
  } catch {
    return `<p class="error">ext_json 不是 JSON：<code>${escapeHtml(version.extJson.slice(0, 500))}</code></p>`;
  }
  const fields = typeof document === 'object' && document !== null ? (document as Record<string, unknown>) : {};
  const ext = fields.ext === undefined ? '（无 ext）' : JSON.stringify(fields.ext, null, 2);
  return `<fieldset><legend>ext 配置</legend>
<p>extAppId：<code data-testid="ext-app-id">${escapeHtml(typeof fields.extAppId === 'string' ? fields.extAppId : JSON.stringify(fields.extAppId ?? '-'))}</code></p>
<pre data-testid="ext">${escapeHtml(ext)}</pre></fieldset>`;
}

const SCRIPT = String.raw`(function () {
  var cfg = JSON.parse(document.getElementById('sim-config').textContent);
  function el(id) { return document.querySelector('[data-testid="' + id + '"]'); }
  var base = '/sandbox/api/apps/' + encodeURIComponent(cfg.appId);
  var runtimeUrl = cfg.runtimeUrl.replace(/\/+$/, '');
  function StepError(message) { this.message = message; }
  function userId() { return el('user').value; }
  function tokenKey() { return 'ks-sim:' + cfg.appId + ':' + userId() + ':sessionToken'; }
  function token() { return userId() ? localStorage.getItem(tokenKey()) : null; }
  function log(step, text) { var li = document.createElement('li'); li.textContent = step + '：' + text; el('steps').appendChild(li); }
  function show(value) { el('result').textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2); }
  function fail(step, code, message) {
    var text = step + ' 失败：' + (code ? code + ' ' : '') + message;
    el('error').textContent = text;
    log(step, '失败 ' + (code ? code + ' ' : '') + message);
    throw new StepError(text);
  }
  function sessionState() { el('session').textContent = token() ? '已登录（本地保存的会话）' : '未登录'; }
  async function control(step, path, body, method) {
    var response = await fetch(path, { method: method || 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    var json = await response.json().catch(function () { return {}; });
    if (!response.ok) fail(step, json.error && json.error.code, json.errMsg || (json.error && json.error.message) || ('HTTP ' + response.status));
    return json;
  }
  async function ksRequest(step, method, path, data, bearer) {
    var header = {};
    if (bearer) header.authorization = 'Bearer ' + bearer;
    var request = { url: runtimeUrl + path, method: method, header: header };
    if (data !== undefined) request.data = data;
    var answer = await control(step, base + '/request', request);
    if (answer.statusCode >= 400) {
      var e = answer.data && answer.data.error;
      fail(step, e ? e.code : 'HTTP ' + answer.statusCode, e ? e.message : JSON.stringify(answer.data));
    }
    log(step, 'HTTP ' + answer.statusCode + '（域名校验：' + answer.domainCheck + '）');
    return answer.data;
  }
  function requireUser() { if (!userId()) fail('选择用户', '', '请先选择或创建用户'); return userId(); }
  function requireToken() { var t = token(); if (!t) fail('会话', '', '请先登录'); return t; }
  async function loadMe() {
    var me = await ksRequest('GET /me', 'GET', '/me', undefined, requireToken());
    el('me').textContent = JSON.stringify(me, null, 2);
    show(me);
  }
  var actions = {
    login: async function () {
      var user = requireUser();
      var login = await control('ks.login', base + '/login', { userId: user });
      log('ks.login', '得到 code（有效 ' + login.expiresInS + ' 秒）');
      var session = await ksRequest('POST /sessions', 'POST', '/sessions', { appId: cfg.appId, code: login.code });
      localStorage.setItem(tokenKey(), session.sessionToken);
      log('POST /sessions', '登录成功 openId ' + session.openId);
      await loadMe();
    },
    phone: async function () {
      var user = requireUser();
      var bearer = requireToken();
      var sealed = await control('getPhoneNumber', base + '/phone', { userId: user });
      log('getPhoneNumber', '得到 encryptedData');
      var number = await ksRequest('POST /me/phone', 'POST', '/me/phone', sealed, bearer);
      el('phone-number').textContent = number.phoneNumber;
      show(number);
    },
    logout: async function () {
      var bearer = requireToken();
      await ksRequest('DELETE /sessions/current', 'DELETE', '/sessions/current', undefined, bearer);
      localStorage.removeItem(tokenKey());
      el('me').textContent = '';
      el('phone-number').textContent = '';
      show('已退出登录');
    },
    'create-user': async function () {
      var nickname = el('nickname').value.trim();
      var user = await control('创建用户', '/sandbox/api/users', { nickname: nickname });
      var option = document.createElement('option');
      option.value = user.userId;
      option.textContent = user.nickname + '（' + user.userId + '）';
      el('user').appendChild(option);
      el('user').value = user.userId;
      log('创建用户', user.nickname + ' ' + user.userId);
    },
  };
  var buttons = document.querySelectorAll('button[data-testid]');
  Object.keys(actions).forEach(function (name) {
    var button = el(name);
    if (!button) return;
    button.addEventListener('click', async function () {
      el('error').textContent = '';
      buttons.forEach(function (b) { b.dataset.wasDisabled = b.disabled ? '1' : ''; b.disabled = true; });
      try {
        await actions[name]();
      } catch (error) {
        if (!(error instanceof StepError)) el('error').textContent = String(error && error.message || error);
      } finally {
        buttons.forEach(function (b) { b.disabled = b.dataset.wasDisabled === '1'; });
        sessionState();
      }
    });
  });
  el('user').addEventListener('change', sessionState);
  sessionState();
})();`;

export function simulatorRoutes(app: FastifyInstance, runtime: SandboxRuntime): void {
  const { state } = runtime;

  app.get<{ Params: { appId: string }; Querystring: { version?: string } }>('/sandbox/apps/:appId', (request, reply) => {
    const mini = state.app(request.params.appId);
    if (!mini) return send(reply, 404, page('小程序不存在', '<h1>小程序不存在</h1>'));
    const experience = request.query.version === 'experience';
    const shown = experience ? mini.dev : mini.online;
    const href = `/sandbox/apps/${encodeURIComponent(mini.appId)}`;
    const label = experience ? '体验版（开发版）' : '线上版';
    const switcher = `<p class="muted">切换：<a href="${href}">线上版</a> · <a href="${href}?version=experience">体验版</a> · <a href="/sandbox">沙箱首页</a></p>`;
    const header = `<h1 data-testid="app-name">${escapeHtml(mini.name)}</h1><p class="muted">${escapeHtml(mini.appId)} · 小程序模拟器</p>${switcher}`;
    if (!shown) {
      return send(reply, 200, page(`${mini.name} · 模拟器`, `${header}
<p data-testid="unpublished"><b>未发布</b>：${experience ? '还没有上传开发版' : '还没有线上版本'}。</p>`));
    }
    const { runtimeUrl } = state.component;
    const users = Object.values(state.data.users.users);
    const options = users.map((user) => `<option value="${escapeHtml(user.userId)}">${escapeHtml(user.nickname)}（${escapeHtml(user.userId)}）</option>`).join('');
    const disabled = runtimeUrl ? '' : ' disabled';
    const backEnd = runtimeUrl
      ? `<p>模板的服务端：<code data-testid="runtime-url">${escapeHtml(runtimeUrl)}</code></p>`
      : '<p class="error" data-testid="no-runtime-url">没有配置模板的服务端地址（runtimeUrl）：设置 SANDBOX_RUNTIME_URL，或 PUT /sandbox/api/component {"runtimeUrl": "…/runtime/v1"}。</p>';
    return send(reply, 200, page(`${mini.name} · 模拟器`, `<style>button:disabled{opacity:.5;cursor:not-allowed}pre{background:#f6f6f6;padding:.6rem;border-radius:6px;white-space:pre-wrap;word-break:break-all}.row button{margin:.2rem .4rem .2rem 0}</style>
${header}
<p>${label}：<b data-testid="version">v${escapeHtml(shown.userVersion)}</b>（模板 ${shown.templateId}）</p>
${extView(shown)}
${backEnd}
<fieldset><legend>快手用户</legend>
<label for="user">当前用户</label><select id="user" data-testid="user"><option value="">（请选择）</option>${options}</select>
<p class="row"><input id="nickname" data-testid="nickname" aria-label="新用户昵称" placeholder="昵称" maxlength="32"> <button type="button" data-testid="create-user">创建用户</button></p>
<p class="muted" data-testid="session">未登录</p></fieldset>
<p class="row"><button type="button" data-testid="login"${disabled}>登录</button><button type="button" data-testid="phone"${disabled}>获取手机号</button><button type="button" data-testid="logout"${disabled}>退出登录</button></p>
<p class="error" data-testid="error" role="alert"></p>
<fieldset><legend>结果</legend><pre data-testid="result"></pre>
<p>手机号：<b data-testid="phone-number"></b></p>
<p class="muted">GET /me</p><pre data-testid="me"></pre>
<p class="muted">步骤</p><ol data-testid="steps"></ol></fieldset>
<script type="application/json" id="sim-config">${scriptJson({ appId: mini.appId, runtimeUrl })}</script>
<script>${SCRIPT}</script>`));
  });
}
