/**
 * App config: the app.json fields an upload's ext.json may set for one merchant (pages, extPages,
 * subPackages, window, tabBar, networkTimeout), kept beside the custom config at every level (template
 * defaults ← channel ← merchant overrides). What a valid document is, and how the levels merge. Pure.
 *
 * Merge, chosen so a provider sets a theme once and a merchant changes one tab's text:
 * - `window`, `networkTimeout`: key by key (a `null` removes the key);
 * - `extPages`: page by page, each page's overrides key by key, recursively (a `null` page removes it);
 * - `tabBar`: key by key; its `list` item by item keyed by `pagePath` (an override item patches the item
 *   with the same pagePath, a new pagePath is appended);
 * - `pages`, `subPackages`: replaced whole (a subset has no meaningful merge; the platform's own rule for
 *   subPackages);
 * - a field set to `null` at a level removes it from what that level inherits.
 */
import type { ExtAppConfig, ExtTabBarItem } from '../kuaishou/index.ts';
import { EXT_APP_CONFIG_FIELDS, NETWORK_TIMEOUT_KINDS } from '../kuaishou/index.ts';
import { checkExtDocument, mergeExt } from './ext-document.ts';
import { FleetError } from './errors.ts';

export type AppConfig = ExtAppConfig;

/** A level's app config as stored: each field may also be `null` (removes what the level inherits). */
export type AppConfigLayer = { [F in keyof AppConfig]?: AppConfig[F] | null };

const MAX_PAGES = 200;
const MAX_PATH = 256;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const invalid = (field: string, message: string, details: Record<string, unknown> = {}): FleetError =>
  new FleetError('invalid_data', 'app_config_invalid', `appConfig.${field}: ${message}`, { field, ...details });

function pathList(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(field, 'must be a non-empty list of page paths');
  if (value.length > MAX_PAGES) throw invalid(field, `at most ${MAX_PAGES} entries`);
  for (const item of value) {
    if (typeof item !== 'string' || item.trim() === '' || item.length > MAX_PATH) throw invalid(field, `each entry is a page path of 1–${MAX_PATH} characters`);
  }
  const duplicate = value.find((item, index) => value.indexOf(item) !== index) as string | undefined;
  if (duplicate !== undefined) throw invalid(field, `"${duplicate}" is listed twice`, { duplicate });
  return value as string[];
}

/**
 * Checks one level's app config (`null` fields allowed: they remove). Throws `app_config_invalid` (400)
 * naming the field; returns the document. Only the documented fields; their shapes as app.json has them.
 */
export function checkAppConfig(value: unknown, what = 'appConfig'): AppConfigLayer {
  if (!isObject(value)) throw new FleetError('invalid_data', 'app_config_invalid', `${what} must be a JSON object`, { field: '' });
  checkExtDocument(value, what);
  for (const [field, item] of Object.entries(value)) {
    if (!(EXT_APP_CONFIG_FIELDS as readonly string[]).includes(field)) {
      throw new FleetError('invalid_data', 'app_config_unknown_field', `${what}.${field} is not an ext.json field (${EXT_APP_CONFIG_FIELDS.join(', ')})`, { field });
    }
    if (item === null) continue;
    switch (field) {
      case 'pages':
        pathList(item, 'pages');
        break;
      case 'subPackages': {
        if (!Array.isArray(item) || item.length === 0) throw invalid('subPackages', 'must be a non-empty list of {root, pages}');
        const roots = new Set<string>();
        item.forEach((pkg: unknown, index) => {
          if (!isObject(pkg) || typeof pkg.root !== 'string' || pkg.root.trim() === '') throw invalid(`subPackages[${index}]`, 'must be {root, pages} with a non-empty root');
          if (roots.has(pkg.root)) throw invalid(`subPackages[${index}]`, `root "${pkg.root}" is listed twice`);
          roots.add(pkg.root);
          pathList(pkg.pages, `subPackages[${index}].pages`);
        });
        break;
      }
      case 'extPages':
        if (!isObject(item)) throw invalid('extPages', 'must be an object of page path → page.json overrides');
        for (const [page, overrides] of Object.entries(item)) {
          if (overrides !== null && !isObject(overrides)) throw invalid(`extPages.${page}`, 'must be an object (page.json fields) or null');
        }
        break;
      case 'window':
        if (!isObject(item)) throw invalid('window', 'must be an object');
        break;
      case 'tabBar':
        checkTabBar(item);
        break;
      case 'networkTimeout':
        if (!isObject(item)) throw invalid('networkTimeout', 'must be an object');
        for (const [kind, ms] of Object.entries(item)) {
          if (!(NETWORK_TIMEOUT_KINDS as readonly string[]).includes(kind)) throw invalid(`networkTimeout.${kind}`, `not one of ${NETWORK_TIMEOUT_KINDS.join(', ')}`);
          if (ms !== null && (typeof ms !== 'number' || !Number.isInteger(ms) || ms <= 0 || ms > 600_000)) throw invalid(`networkTimeout.${kind}`, 'must be a whole number of milliseconds from 1 to 600000');
        }
        break;
    }
  }
  return value;
}

function checkTabBar(item: unknown): void {
  if (!isObject(item)) throw invalid('tabBar', 'must be an object');
  if (item.list === undefined || item.list === null) return;
  if (!Array.isArray(item.list) || item.list.length > 5) throw invalid('tabBar.list', 'must be a list of at most 5 tabs');
  const seen = new Set<string>();
  item.list.forEach((tab: unknown, index) => {
    if (!isObject(tab) || typeof tab.pagePath !== 'string' || tab.pagePath.trim() === '') throw invalid(`tabBar.list[${index}]`, 'each tab needs a pagePath');
    if (seen.has(tab.pagePath)) throw invalid(`tabBar.list[${index}]`, `pagePath "${tab.pagePath}" is listed twice`);
    seen.add(tab.pagePath);
    if (tab.text !== undefined && typeof tab.text !== 'string') throw invalid(`tabBar.list[${index}].text`, 'must be a string');
  });
}

function mergeTabs(base: ExtTabBarItem[], overrides: ExtTabBarItem[]): ExtTabBarItem[] {
  const merged = base.map((tab) => ({ ...tab }));
  for (const override of overrides) {
    const index = merged.findIndex((tab) => tab.pagePath === override.pagePath);
    if (index === -1) merged.push(override);
    else merged[index] = mergeExt(merged[index]!, override) as ExtTabBarItem;
  }
  return merged;
}

/** `override` (one level) applied to `base` (what the levels above made), by the rules in the header. */
export function mergeAppConfig(base: AppConfig, override: AppConfigLayer): AppConfig {
  const merged: Record<string, unknown> = { ...base };
  for (const field of EXT_APP_CONFIG_FIELDS) {
    const value = override[field];
    if (value === undefined) continue;
    if (value === null) {
      delete merged[field];
      continue;
    }
    const inherited = merged[field];
    switch (field) {
      case 'pages':
      case 'subPackages':
        merged[field] = value;
        break;
      case 'tabBar': {
        const tabBar = value as NonNullable<AppConfig['tabBar']>;
        const from = isObject(inherited) ? inherited : {};
        const { list, ...rest } = tabBar;
        const next = mergeExt(from, rest);
        if (Array.isArray(list)) next.list = mergeTabs(Array.isArray(from.list) ? (from.list as ExtTabBarItem[]) : [], list);
        merged.tabBar = next;
        break;
      }
      default:
        // window, networkTimeout, extPages: key by key, recursively (extPages: page by page).
        merged[field] = mergeExt(isObject(inherited) ? inherited : {}, value as Record<string, unknown>);
    }
  }
  return merged;
}

/**
 * The assembled app config, checked as a whole before an upload: `extPages` only for pages the
 * mini-program has when `pages` narrows them, tabs only on those pages.
 */
export function checkAssembledAppConfig(config: AppConfig): AppConfig {
  if (config.pages) {
    const pages = new Set(config.pages);
    const strayPage = Object.keys(config.extPages ?? {}).find((page) => !pages.has(page));
    if (strayPage) throw invalid('extPages', `"${strayPage}" is not among pages`, { page: strayPage });
    const strayTab = config.tabBar?.list?.find((tab) => !pages.has(tab.pagePath));
    if (strayTab) throw invalid('tabBar.list', `"${strayTab.pagePath}" is not among pages`, { page: strayTab.pagePath });
  }
  return config;
}
