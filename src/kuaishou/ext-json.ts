/**
 * The ext.json an upload (A3) sends as `ext_json`, built in this ONE place from a merchant's custom config
 * and app config. Kuaishou documents the document (open.kuaishou.com/docs/saas/develop/devTool.html,
 * "创建 ext.json 文件", 2023-02-08):
 *
 *   extEnable       true, or preview and upload do nothing (doc)
 *   extAppId        the merchant's mini-program; written into app.json (doc; note the capital I)
 *   ext             the custom config the template reads at run time; replaces the template's whole (doc)
 *   pages           a subset of the template's pages, never new ones (doc)
 *   extPages        per page, overrides of that page's page.json (doc)
 *   subPackages     replaces the template's whole; a subset of its packages (doc)
 *   window, tabBar, networkTimeout   as in app.json (doc: listed among the fields ext.json may set)
 *
 * Shapes inside window / tabBar / networkTimeout follow app.json (the mini-program framework's docs); only
 * what is checked below is relied on.
 */

/** The app.json fields an ext.json may set for one merchant: the "app config". */
export interface ExtAppConfig {
  pages?: string[];
  extPages?: Record<string, Record<string, unknown>>;
  subPackages?: ExtSubPackage[];
  window?: Record<string, unknown>;
  tabBar?: ExtTabBar;
  networkTimeout?: Partial<Record<NetworkTimeoutKind, number>>;
}

export interface ExtSubPackage {
  root: string;
  pages: string[];
  name?: string;
  [field: string]: unknown;
}

export interface ExtTabBar {
  list?: ExtTabBarItem[];
  [field: string]: unknown;
}

export interface ExtTabBarItem {
  pagePath: string;
  text?: string;
  [field: string]: unknown;
}

export const NETWORK_TIMEOUT_KINDS = ['request', 'connectSocket', 'uploadFile', 'downloadFile'] as const;
export type NetworkTimeoutKind = (typeof NETWORK_TIMEOUT_KINDS)[number];

/** The app config's fields, in the order ext.json lists them. */
export const EXT_APP_CONFIG_FIELDS = ['pages', 'extPages', 'subPackages', 'window', 'tabBar', 'networkTimeout'] as const satisfies readonly (keyof ExtAppConfig)[];

/** The whole document, as the platform reads it. */
export interface ExtJsonDocument extends ExtAppConfig {
  extEnable: true;
  extAppId: string;
  ext: Record<string, unknown>;
}

/** What an upload carries for one merchant: its custom config and (optionally) its app config. */
export interface MerchantExt {
  ext: Record<string, unknown>;
  appConfig?: ExtAppConfig;
}

/** The ext.json for `appId`: enabled, addressed to that mini-program, the custom config as `ext`, then the app config. */
export function buildExtJson(appId: string, merchant: MerchantExt): ExtJsonDocument {
  const document: ExtJsonDocument = { extEnable: true, extAppId: appId, ext: merchant.ext };
  for (const field of EXT_APP_CONFIG_FIELDS) {
    const value = merchant.appConfig?.[field];
    if (value !== undefined) Object.assign(document, { [field]: value });
  }
  return document;
}
