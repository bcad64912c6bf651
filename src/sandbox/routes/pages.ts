/**
 * The sandbox's HTML pages: the authorization page a merchant sees (T7: demo login → pick a mini-program →
 * tick permission sets → confirm → redirect with the code), the sandbox home (merchants, their apps,
 * revoke), and the page an experience QR code opens.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AUTHORIZATION_PAGE } from '../../kuaishou/endpoints.ts';
import { PERMISSION_SETS } from '../../kuaishou/types.ts';
import { checkPreAuthCode, usePreAuthCode, validPermissions } from '../rules/credentials.ts';
import type { SandboxRuntime } from '../runtime.ts';
import { SandboxError } from '../sandbox-error.ts';
import { own } from '../state.ts';
import { singleValues } from './platform-route.ts';

const PAGE_SIZE = 50;
const P = AUTHORIZATION_PAGE.params;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function page(title: string, body: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;max-width:760px;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}fieldset{border:1px solid #ddd;border-radius:8px;margin:1rem 0;padding:.8rem 1rem}
label{display:block;margin:.4rem 0}button{background:#fe3666;color:#fff;border:0;border-radius:6px;padding:.6rem 1.4rem;font-size:1rem;cursor:pointer}
.muted{color:#777;font-size:.9rem}.error{color:#b00020}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:.35rem;text-align:left;font-size:.9rem}
.tag{display:inline-block;border-radius:4px;padding:0 .4rem;font-size:.8rem;background:#eee}.ok{background:#d8f5d8}
</style></head><body>${body}</body></html>`;
}

export function send(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
}

function validRedirect(uri: string | undefined): string {
  if (!uri) throw new SandboxError('INVALID_PARAMS', 'redirect_uri is required');
  try {
    const url = new URL(uri);
    if (url.protocol === 'http:' || url.protocol === 'https:') return uri;
  } catch {
    // fall through
  }
  throw new SandboxError('INVALID_PARAMS', 'redirect_uri must be an http(s) URL');
}

function formValues(body: unknown): Record<string, string | string[]> {
  return typeof body === 'object' && body !== null ? (body as Record<string, string | string[]>) : {};
}

export function pageRoutes(app: FastifyInstance, runtime: SandboxRuntime): void {
  const { state } = runtime;

  const errorPage = (reply: FastifyReply, error: unknown): FastifyReply => {
    if (!(error instanceof SandboxError)) throw error;
    return send(reply, 400, page('授权失败', `<h1>授权失败</h1><p class="error">${escapeHtml(error.message)}（${error.code}）</p>`));
  };

  app.get(AUTHORIZATION_PAGE.path, (request, reply) => {
    const query = singleValues(request.query);
    try {
      if (query[P.componentAppId] !== state.component.componentAppId) throw new SandboxError('INVALID_CLIENT', 'unknown component_app_id');
      checkPreAuthCode(state, query[P.preAuthCode]);
      const redirectUri = validRedirect(query[P.redirectUri]);
      const carried = { [P.componentAppId]: state.component.componentAppId, [P.preAuthCode]: query[P.preAuthCode]!, [P.redirectUri]: redirectUri };
      // Step 1 sends the picked merchant, or the one typed in by id.
      const merchantId = query.merchant_id_typed?.trim() || query.merchant_id;
      const merchant = merchantId ? own(state.data.merchants, merchantId) : undefined;
      const header = `<h1>快手小程序授权</h1><p>第三方应用 <b>${escapeHtml(state.component.componentAppId)}</b> 请求代你管理小程序。</p>`;
      if (!merchant) {
        const merchants = Object.values(state.data.merchants).slice(0, 200);
        const options = merchants.map((m) => `<option value="${escapeHtml(m.merchantId)}">${escapeHtml(m.name)}（${escapeHtml(m.merchantId)}）</option>`).join('');
        return send(reply, 200, page('快手小程序授权 · 登录', `${header}
<form method="get" action="${AUTHORIZATION_PAGE.path}">${hidden(carried)}
<fieldset><legend>演示登录：你是哪位商家？</legend>
<label for="merchant">商家</label><select id="merchant" name="merchant_id">${options}</select>
<p class="muted">沙箱无需密码。商家较多时也可直接输入商家编号：<input aria-label="商家编号" name="merchant_id_typed" placeholder="m000001"></p></fieldset>
<button type="submit">登录</button></form>`));
      }
      const apps = merchant.appIds.map((id) => state.app(id)!);
      const appChoices = apps
        .map((mini, i) => `<label><input type="radio" name="app_id" value="${escapeHtml(mini.appId)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(mini.name)} <span class="muted">${escapeHtml(mini.appId)}</span>${mini.authorization ? ' <span class="tag ok">已授权</span>' : ''}</label>`)
        .join('');
      const sets = Object.entries(PERMISSION_SETS)
        .map(([id, set]) => `<label><input type="checkbox" name="permission" value="${id}" checked> ${id}. ${escapeHtml(set.nameZh)} <span class="muted">${escapeHtml(set.covers)}</span></label>`)
        .join('');
      return send(reply, 200, page('快手小程序授权', `${header}<p>当前登录：<b>${escapeHtml(merchant.name)}</b></p>
<form method="post" action="${AUTHORIZATION_PAGE.path}">${hidden({ ...carried, merchant_id: merchant.merchantId })}
<fieldset><legend>选择要授权的小程序</legend>${appChoices}</fieldset>
<fieldset><legend>授权权限集</legend>${sets}</fieldset>
<button type="submit">确认授权</button></form>`));
    } catch (error) {
      return errorPage(reply, error);
    }
  });

  app.post(AUTHORIZATION_PAGE.path, (request, reply) => {
    const form = formValues(request.body);
    const one = (name: string): string | undefined => {
      const value = own(form, name);
      return Array.isArray(value) ? value[0] : value;
    };
    try {
      if (one(P.componentAppId) !== state.component.componentAppId) throw new SandboxError('INVALID_CLIENT', 'unknown component_app_id');
      const redirectUri = validRedirect(one(P.redirectUri));
      const merchant = own(state.data.merchants, one('merchant_id') ?? '');
      const appId = one('app_id') ?? '';
      if (!merchant || !merchant.appIds.includes(appId)) throw new SandboxError('INVALID_PARAMS', 'pick one of your own mini-programs');
      const picked = own(form, 'permission');
      const permissions = (Array.isArray(picked) ? picked : picked === undefined ? [] : [picked]).map(Number);
      if (permissions.length === 0) throw new SandboxError('INVALID_PARAMS', '请至少勾选一个权限集');
      // Everything is checked before the pre-auth code is spent: a refused form can be corrected and resent.
      validPermissions(permissions);
      usePreAuthCode(state, one(P.preAuthCode));
      const granted = runtime.authorize(appId, permissions);
      const target = new URL(redirectUri);
      target.searchParams.set(AUTHORIZATION_PAGE.redirectParams.authorizationCode, granted.code);
      target.searchParams.set(AUTHORIZATION_PAGE.redirectParams.expiresIn, String(granted.expiresInS));
      return reply.redirect(target.toString(), 302);
    } catch (error) {
      return errorPage(reply, error);
    }
  });

  app.get<{ Querystring: { page?: string } }>('/sandbox', (request, reply) => {
    const all = Object.values(state.data.merchants);
    const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
    const current = Math.min(Math.max(Number.parseInt(request.query.page ?? '1', 10) || 1, 1), pages);
    const rows = all
      .slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE)
      .flatMap((merchant) =>
        merchant.appIds.map((appId) => {
          const mini = state.app(appId)!;
          const revoke = mini.authorization
            ? `<form method="post" action="/sandbox/revoke" style="margin:0">${hidden({ app_id: appId, page: String(current) })}<button type="submit" aria-label="撤销 ${escapeHtml(appId)} 的授权">撤销授权</button></form>`
            : '';
          return `<tr><td>${escapeHtml(merchant.name)}</td><td>${escapeHtml(mini.name)}<br><span class="muted">${escapeHtml(appId)}</span> <a href="/sandbox/apps/${encodeURIComponent(appId)}">模拟器</a></td>
<td>${mini.authorization ? `<span class="tag ok">已授权 ${mini.authorization.permissions.join(',')}</span>` : '<span class="tag">未授权</span>'}</td>
<td>${escapeHtml(mini.dev?.userVersion ?? '-')} / ${escapeHtml(mini.audit ? `${mini.audit.userVersion} ${mini.audit.status}` : '-')} / ${escapeHtml(mini.online?.userVersion ?? '-')}</td><td>${revoke}</td></tr>`;
        }),
      )
      .join('');
    const nav = pages > 1 ? `<p>第 ${current} / ${pages} 页 ${current > 1 ? `<a href="/sandbox?page=${current - 1}">上一页</a>` : ''} ${current < pages ? `<a href="/sandbox?page=${current + 1}">下一页</a>` : ''}</p>` : '';
    return send(reply, 200, page('快手开放平台沙箱', `<h1>快手开放平台沙箱 <span class="muted">Kuaishou Open Platform sandbox</span></h1>
<p class="muted">第三方应用 ${escapeHtml(state.component.componentAppId)} · ${all.length} 个商家 · 控制接口 <a href="/sandbox/api/state">/sandbox/api/state</a> · <a href="/sandbox/api/pushes">推送记录</a></p>
<table><thead><tr><th>商家</th><th>小程序</th><th>授权</th><th>开发版 / 审核版 / 线上版</th><th></th></tr></thead><tbody>${rows}</tbody></table>${nav}`));
  });

  app.post('/sandbox/revoke', (request, reply) => {
    const form = formValues(request.body);
    const appId = own(form, 'app_id');
    try {
      if (typeof appId !== 'string') throw new SandboxError('INVALID_PARAMS', 'app_id is required');
      runtime.requireApp(appId);
      runtime.revoke(appId);
    } catch (error) {
      return errorPage(reply, error);
    }
    const pageNumber = own(form, 'page');
    return reply.redirect(`/sandbox?page=${encodeURIComponent(typeof pageNumber === 'string' ? pageNumber : '1')}`, 303);
  });

  app.get<{ Params: { appId: string }; Querystring: { version?: string; v?: string; path?: string } }>('/sandbox/preview/:appId', (request, reply) => {
    const mini = state.app(request.params.appId);
    if (!mini) return send(reply, 404, page('小程序不存在', '<h1>小程序不存在</h1>'));
    const kind = request.query.version === 'audit' ? 'audit' : 'latest';
    const shown = kind === 'audit' ? mini.audit : mini.dev;
    const label = kind === 'audit' ? '审核版' : '体验版（开发版）';
    const stale = shown && request.query.v && request.query.v !== shown.userVersion
      ? `<p class="error">二维码生成时为 v${escapeHtml(request.query.v)}，当前已是 v${escapeHtml(shown.userVersion)}。</p>` : '';
    return send(reply, 200, page(`${mini.name} · 预览`, `<h1>${escapeHtml(mini.name)}</h1>
<p>扫码将打开 <b>${label}</b>：${shown ? `<b data-testid="preview-version">v${escapeHtml(shown.userVersion)}</b>（模板 ${shown.templateId}）` : '当前没有该版本'}</p>${stale}
${request.query.path ? `<p>页面：<code>${escapeHtml(request.query.path)}</code></p>` : ''}
${shown ? `<p class="muted">ext_json：<code>${escapeHtml(shown.extJson.slice(0, 500))}</code></p>` : ''}
<p>在模拟器中打开：<a data-testid="simulator-link" href="/sandbox/apps/${encodeURIComponent(mini.appId)}?version=experience">体验版</a> · <a href="/sandbox/apps/${encodeURIComponent(mini.appId)}">线上版</a></p>`));
  });
}
