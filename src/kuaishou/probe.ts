/**
 * The probe: which rows of the endpoint table hold on the platform the client points at — learned with
 * calls that change nothing there. T2 (a component access token: each fetch issues a new one and old ones
 * stay valid, doc; the one issued here is dropped), A12 (template list), and for one authorized merchant
 * A1/A2 `get`, A7, A6 (development version) and A11 for each capability. Never an upload, audit, release,
 * domain change, application, or a user-facing call like code2session.
 *
 * It calls through the real client and token manager, so it sees what every call sees (overridden rows,
 * tokens refreshed the usual way when due), and reads each answer's shape through `onAnswer`: field names
 * only. Nothing secret is in a report: no token, ticket, secret or code, and platform messages redacted.
 */
import { answerShape, expectedFields, missingFields, type AnswerShape, type ExpectedField } from './answer-shape.ts';
import type { CallOptions, KuaishouClient } from './client.ts';
import { isOverridden, overriddenRows, type HttpMethod } from './endpoint-overrides.ts';
import { CAPABILITY_WIRE, capabilityPermissionSet, ENDPOINTS, type Endpoint, type Operation, type Source } from './endpoints.ts';
import { KuaishouApiError, KuaishouError, NoTicketError, NotAuthorizedError, UnexpectedResponseError } from './errors.ts';
import { redact } from './redact.ts';
import type { TokenManager } from './tokens/token-manager.ts';
import { credentialKeys, type TokenStore } from './tokens/token-store.ts';
import type { Capability, PermissionSetId, Versions } from './types.ts';

/** `not_tried`: the row was not called, and `details.reason` says why. */
export type ProbeOutcome = 'confirmed' | 'differs' | 'refused' | 'not_tried';

export const PROBE_OUTCOMES: readonly ProbeOutcome[] = ['confirmed', 'differs', 'refused', 'not_tried'];

/** Every key is always present (null when it does not apply), so the JSON has one fixed shape. */
export interface ProbeRowDetails {
  /** HTTP status of the (last) answer; null when there was none. */
  httpStatus: number | null;
  /** Why a row differs, was refused without a code, or was not tried. */
  reason: string | null;
  /** differs: the answer's field names, top level and one level down. */
  seenFields: string[] | null;
  /** differs: the fields the row's decoder reads (`?`: may be absent); [] for the QR code's bytes. */
  expectedFields: string[] | null;
  /** differs: fields the table needs that are missing or of another type. */
  mismatchedFields: string[] | null;
  /** refused: the platform's error code, our name of it, its message (redacted). */
  code: number | null;
  codeName: string | null;
  message: string | null;
}

export interface ProbeRow {
  /** The row id of docs/kuaishou-open-platform.md (`A7`). */
  id: string;
  operation: Operation;
  /** Which call of a row probed several times (A11: the capability); null otherwise. */
  variant: string | null;
  method: HttpMethod;
  path: string;
  source: Source;
  /** The path or method came from the overrides (KS_ENDPOINTS_FILE). */
  overridden: boolean;
  outcome: ProbeOutcome;
  details: ProbeRowDetails;
}

export interface ProbeSummary {
  confirmed: number;
  differs: number;
  refused: number;
  notTried: number;
}

/** No timing field: two probes of an unchanged platform give the same report. */
export interface ProbeReport {
  /** The platform probed (scheme, host, path; never credentials or a query). */
  baseUrl: string;
  componentAppId: string;
  /** The merchant probed; null when none was given. */
  appId: string | null;
  /** Rows whose path or method is overridden, in table order. */
  overriddenRows: string[];
  /** Every row that was tried is confirmed. */
  ok: boolean;
  summary: ProbeSummary;
  /** In table order (A11's capabilities in their order). */
  rows: ProbeRow[];
}

export interface ProbeTarget {
  client: KuaishouClient;
  tokens: TokenManager;
  /** The store the token manager keeps its credentials in (whether a ticket, a token, a merchant's grant is there). */
  store: TokenStore;
}

export interface ProbeOptions {
  /** An authorized merchant to probe the per-merchant rows with. */
  appId?: string;
  /** Waits before each row's call (the instance's platform rate limit). */
  beforeCall?: () => Promise<void>;
  now?: () => number;
}

const PERMISSION_SET_NAMES: Record<PermissionSetId, string> = { 1: 'development', 2: 'basic information', 3: 'operations', 4: 'permissions' };
const CAPABILITIES = Object.keys(CAPABILITY_WIRE) as Capability[];
const TABLE_ORDER = Object.keys(ENDPOINTS) as Operation[];

type Credential = 'none' | 'component' | 'authorizer';

interface Plan {
  operation: Operation;
  variant: string | null;
  credential: Credential;
  /** Set: the row is not tried, for this reason. */
  skip?: string;
  call(token: string | undefined, options: CallOptions): Promise<unknown>;
}

const NONE = Symbol('none');

function blankDetails(): ProbeRowDetails {
  return { httpStatus: null, reason: null, seenFields: null, expectedFields: null, mismatchedFields: null, code: null, codeName: null, message: null };
}

function expectedNames(expected: readonly ExpectedField[]): string[] {
  return expected.map(({ path, optional }) => (optional ? `${path}?` : path));
}

/** The base URL as shown in a report: no user info, query or fragment. */
function shownBaseUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.href.replace(/\/+$/, '');
  } catch {
    return '(not a URL)';
  }
}

export async function probePlatform(target: ProbeTarget, options: ProbeOptions = {}): Promise<ProbeReport> {
  const { client, tokens, store } = target;
  const now = options.now ?? Date.now;
  const appId = options.appId;
  const table = client.endpoints;
  const componentAppId = client.componentAppId;

  const ticket = await store.get(credentialKeys.ticket(componentAppId));
  const hasTicket = ticket !== undefined && ticket.expiresAt > now();
  const componentToken = await store.get(credentialKeys.componentToken(componentAppId));
  const hasComponentToken = componentToken !== undefined && componentToken.expiresAt > now();
  const grant = appId === undefined ? undefined : await store.get(credentialKeys.authorizer(componentAppId, appId));
  const granted = Array.isArray(grant?.meta?.permissions) ? (grant.meta.permissions as unknown[]) : undefined;

  const merchantSkip = (set: PermissionSetId | undefined): string | undefined => {
    if (appId === undefined) return 'no merchant given: probe with the app id of an authorized merchant';
    if (grant === undefined) return `no authorization stored for ${appId}: it has not authorized the component app, or revoked it`;
    if (set !== undefined && granted !== undefined && !granted.includes(set)) {
      return `${appId} has not granted permission set ${set} (${PERMISSION_SET_NAMES[set]})`;
    }
    return undefined;
  };
  const noTicket = 'no component ticket stored: the platform pushes one to the authorization-event URL after start_push_ticket (T1); wait for it and probe again';

  const plans: Plan[] = [
    {
      operation: 'getComponentAccessToken', variant: null, credential: 'none',
      ...(hasTicket ? {} : { skip: noTicket }),
      // The new token is dropped: the stored one stays in use (old tokens stay valid, doc).
      call: (_token, callOptions) => client.getComponentAccessToken(ticket?.value ?? '', callOptions),
    },
    {
      operation: 'listTemplates', variant: null, credential: 'component',
      ...(hasTicket || hasComponentToken ? {} : { skip: `${noTicket} (and no component access token is stored)` }),
      call: (token, callOptions) => client.call('listTemplates', token, undefined, callOptions),
    },
    {
      operation: 'serverDomains', variant: null, credential: 'authorizer', ...skipOf(merchantSkip(2)),
      call: (token, callOptions) => client.call('serverDomains', token, { action: 'get' }, callOptions),
    },
    {
      operation: 'webviewDomains', variant: null, credential: 'authorizer', ...skipOf(merchantSkip(2)),
      call: (token, callOptions) => client.call('webviewDomains', token, { action: 'get' }, callOptions),
    },
    {
      operation: 'getVersions', variant: null, credential: 'authorizer', ...skipOf(merchantSkip(1)),
      call: (token, callOptions) => client.call('getVersions', token, undefined, callOptions),
    },
    ...CAPABILITIES.map((capability): Plan => ({
      operation: 'getCapabilityStatus', variant: capability, credential: 'authorizer', ...skipOf(merchantSkip(capabilityPermissionSet(capability))),
      call: (token, callOptions) => client.call('getCapabilityStatus', token, { capability }, callOptions),
    })),
  ];

  const rows: ProbeRow[] = [];
  let versions: Versions | undefined;
  for (const plan of plans) {
    const { row, output } = await probeRow(plan);
    rows.push(row);
    if (plan.operation === 'getVersions' && row.outcome === 'confirmed') versions = output as Versions;
  }
  // A6 after A7: the QR code of a development version that (as A7 just said) is not there is no test of the row.
  const qrSkip = merchantSkip(1) ?? (versions !== undefined && versions.development === undefined ? `${appId ?? ''} has no development version (A7 shows none): upload one, then probe again` : undefined);
  rows.push(
    (
      await probeRow({
        operation: 'getQrCode', variant: null, credential: 'authorizer', ...skipOf(qrSkip),
        call: (token, callOptions) => client.call('getQrCode', token, { version: 'development' }, callOptions),
      })
    ).row,
  );

  const position = (row: ProbeRow): number => TABLE_ORDER.indexOf(row.operation) * 100 + (row.variant === null ? 0 : CAPABILITIES.indexOf(row.variant as Capability) + 1);
  rows.sort((a, b) => position(a) - position(b));
  const count = (outcome: ProbeOutcome): number => rows.filter((row) => row.outcome === outcome).length;
  const summary: ProbeSummary = { confirmed: count('confirmed'), differs: count('differs'), refused: count('refused'), notTried: count('not_tried') };
  const report: ProbeReport = {
    baseUrl: shownBaseUrl(client.baseUrl),
    componentAppId,
    appId: appId ?? null,
    overriddenRows: overriddenRows(table),
    ok: summary.differs === 0 && summary.refused === 0,
    summary,
    rows,
  };
  client.logger.info({ appId: report.appId, ...summary, overriddenRows: report.overriddenRows }, 'platform probe done');
  return report;

  async function probeRow(plan: Plan): Promise<{ row: ProbeRow; output?: unknown }> {
    const endpoint = table[plan.operation] as Endpoint<never, unknown>;
    const row = (outcome: ProbeOutcome, details: ProbeRowDetails): ProbeRow => ({
      id: endpoint.row,
      operation: plan.operation,
      variant: plan.variant,
      method: endpoint.method,
      path: endpoint.path,
      source: endpoint.source,
      overridden: isOverridden(table, plan.operation),
      outcome,
      details,
    });
    if (plan.skip !== undefined) return { row: row('not_tried', { ...blankDetails(), reason: plan.skip }) };

    let shape: AnswerShape | undefined;
    let callError: unknown = NONE;
    const callOptions: CallOptions = { onAnswer: (seen) => (shape = seen) };
    const attempt = async (token: string | undefined): Promise<unknown> => {
      shape = undefined;
      try {
        return await plan.call(token, callOptions);
      } catch (error) {
        callError = error;
        throw error;
      }
    };
    const expected = expectedFields(endpoint, plan.operation);
    try {
      await options.beforeCall?.();
      const output =
        plan.credential === 'component'
          ? await tokens.withComponentToken(attempt)
          : plan.credential === 'authorizer'
            ? await tokens.withAuthorizerToken(appId ?? '', attempt)
            : await attempt(undefined);
      const missing = shape?.fields ? missingFields(expected, shape.fields) : [];
      if (missing.length === 0) return { row: row('confirmed', { ...blankDetails(), httpStatus: shape?.httpStatus ?? null }), output };
      return {
        row: row('differs', {
          ...blankDetails(),
          httpStatus: shape?.httpStatus ?? null,
          reason: `decoded, but without fields the table reads (an absent list reads as empty): ${missing.join(', ')}`,
          seenFields: shape?.fields ?? null,
          expectedFields: expectedNames(expected),
          mismatchedFields: missing,
        }),
      };
    } catch (error) {
      if (!(error instanceof KuaishouError)) throw error;
      if (error !== callError) return { row: row('not_tried', { ...blankDetails(), reason: beforeCallReason(error) }) };
      return { row: failedCall(error, endpoint, expected, shape, row) };
    }
  }

  /** A failure before the row's own call: getting the token it needs. */
  function beforeCallReason(error: KuaishouError): string {
    if (error instanceof NoTicketError) return noTicket;
    if (error instanceof NotAuthorizedError) return `the platform says ${appId ?? 'the merchant'} has not authorized the component app (or revoked it)`;
    return `could not get the access token the call needs: ${redact(error.message)}`;
  }
}

function skipOf(reason: string | undefined): { skip?: string } {
  return reason === undefined ? {} : { skip: reason };
}

/** The row's own call failed: which outcome that is, with names and codes only. */
function failedCall(
  error: KuaishouError,
  endpoint: Endpoint<never, unknown>,
  expected: readonly ExpectedField[],
  shape: AnswerShape | undefined,
  row: (outcome: ProbeOutcome, details: ProbeRowDetails) => ProbeRow,
): ProbeRow {
  const seen = shape ?? answerShape(0, '', undefined);
  const shapeDetails = {
    httpStatus: shape?.httpStatus ?? null,
    seenFields: seen.fields ?? [],
    expectedFields: expectedNames(expected),
  };
  if (error instanceof KuaishouApiError && (error.httpStatus === 404 || error.httpStatus === 405)) {
    return row('differs', {
      ...blankDetails(),
      ...shapeDetails,
      reason: `HTTP ${error.httpStatus} on ${endpoint.method} ${endpoint.path}: the platform has no such path${error.httpStatus === 405 ? ' for this method' : ''}`,
      mismatchedFields: [],
    });
  }
  if (error instanceof UnexpectedResponseError) {
    const what = shape === undefined ? 'an answer' : `HTTP ${shape.httpStatus}${shape.contentType ? ` ${shape.contentType}` : ''}`;
    let reason: string;
    let mismatched: string[];
    if (endpoint.binary && shape?.fields) {
      reason = `answered ${what} where the table expects image bytes`;
      mismatched = [];
    } else if (shape !== undefined && shape.fields === null) {
      reason = `answered ${what}, not a JSON object`;
      mismatched = [];
    } else if (error.field !== undefined) {
      reason = `"${error.field}" is missing or not what the table reads`;
      mismatched = [error.field];
    } else {
      // A JSON object without the success `result` (the factory's "without a result code").
      reason = `answered ${what} without the "result" field every answer carries`;
      mismatched = ['result'];
    }
    return row('differs', { ...blankDetails(), ...shapeDetails, reason, mismatchedFields: mismatched });
  }
  if (error instanceof KuaishouApiError) {
    return row('refused', {
      ...blankDetails(),
      httpStatus: error.httpStatus,
      ...(error.code === null ? { reason: `HTTP ${error.httpStatus} without a result code` } : {}),
      code: error.code,
      codeName: error.codeName ?? null,
      message: redact(error.platformMessage),
    });
  }
  // No answer (timeout, connection): tried, and the platform did not take it.
  return row('refused', { ...blankDetails(), reason: `no answer: ${redact(error.message)}`, message: null });
}
