/** `probe`: which endpoint rows hold on the platform the server points at (POST /api/v1/platform/probe). */
import type { components } from '../../web/src/api/schema.d.ts';
import { ok } from './api-client.ts';
import { type Command, stringOption } from './command.ts';
import { ApiError, EXIT, NotAvailableError, UsageError } from './errors.ts';
import type { Output } from './output.ts';
import { table } from './output.ts';

type ProbeReport = components['schemas']['ProbeReport'];
type ProbeRow = components['schemas']['ProbeRow'];

const PATH = '/api/v1/platform/probe';
const APP_ID = /^[A-Za-z0-9_-]{1,64}$/;

const OUTCOME_TEXT: Record<ProbeRow['outcome'], string> = { confirmed: 'confirmed', differs: 'differs', refused: 'refused', not_tried: 'not tried' };

function operationOf(row: ProbeRow): string {
  return row.variant === null ? row.operation : `${row.operation} ${row.variant}`;
}

/** What one row that is not confirmed came to: a headline and the names behind it. */
function explain(row: ProbeRow): string[] {
  const d = row.details;
  const said = `${d.reason ?? ''} ${d.message ?? ''}`;
  const status = d.httpStatus === null || said.includes(`HTTP ${d.httpStatus}`) ? '' : ` (HTTP ${d.httpStatus})`;
  const headline =
    row.outcome === 'refused' && d.code !== null
      ? `refused: ${d.code}${d.codeName ? ` ${d.codeName}` : ''}${d.message ? `: ${d.message}` : ''}${status}`
      : `${OUTCOME_TEXT[row.outcome]}: ${d.reason ?? d.message ?? ''}${row.outcome === 'not_tried' ? '' : status}`;
  const lines = [`${row.id} ${operationOf(row)} ${headline}`];
  if (d.mismatchedFields?.length) lines.push(`    mismatched: ${d.mismatchedFields.join(', ')}`);
  if (d.seenFields) lines.push(`    seen:       ${d.seenFields.length ? d.seenFields.join(', ') : '(no JSON fields)'}`);
  if (d.expectedFields) lines.push(`    expected:   ${d.expectedFields.length ? d.expectedFields.join(', ') : '(image bytes)'}`);
  return lines;
}

function print(report: ProbeReport, out: Output): void {
  out.line(`probe of ${report.baseUrl} · component ${report.componentAppId} · ${report.appId === null ? 'no merchant (--app <appId> to probe the merchant rows)' : `merchant ${report.appId}`}`);
  out.line();
  const rows = report.rows.map((row) => [row.id, operationOf(row), `${row.method} ${row.path}${row.overridden ? ' *' : ''}`, row.source, OUTCOME_TEXT[row.outcome]]);
  for (const line of table(['ROW', 'OPERATION', 'CALL', 'SOURCE', 'OUTCOME'], rows)) out.line(line);
  const notable = report.rows.filter((row) => row.outcome !== 'confirmed');
  if (notable.length > 0) {
    out.line();
    for (const row of notable) for (const line of explain(row)) out.line(line);
  }
  out.line();
  const { confirmed, differs, refused, notTried } = report.summary;
  out.line(`${confirmed} confirmed · ${differs} differ · ${refused} refused · ${notTried} not tried`);
  if (report.overriddenRows.length > 0) out.line(`* overridden by KS_ENDPOINTS_FILE: ${report.overriddenRows.join(', ')}`);
  if (!report.ok) out.line('some rows do not hold: correct their path or method in KS_ENDPOINTS_FILE, or the row in src/kuaishou/endpoints.ts (docs/kuaishou-client.md)');
}

const probe: Command = {
  group: 'probe',
  name: '',
  summary: 'which endpoint rows hold on the platform, from calls that change nothing there (needs an admin key)',
  usage: '[--app <appId>]',
  help: [
    '--app <appId>   an authorized merchant: also probe its rows (domains get, versions, QR code, capability status)',
    'exit 0 when every row that was tried is confirmed, 1 when one differs or was refused',
  ],
  options: { app: { type: 'string' } },
  async run({ values, api, out }) {
    const appId = stringOption(values, 'app');
    if (appId !== undefined && !APP_ID.test(appId)) throw new UsageError(`--app '${appId}' is not an app id (letters, digits, _ and -)`);
    let report: ProbeReport;
    try {
      report = await ok(api.rest.POST(PATH, { body: appId === undefined ? {} : { appId } }));
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.code === 'not_found') throw new NotAvailableError(`not available on this server (404 from ${PATH})`);
      throw error;
    }
    if (out.json) out.data(report);
    else print(report, out);
    return report.ok ? EXIT.ok : EXIT.probeFailed;
  },
};

export const probeCommands: Command[] = [probe];
