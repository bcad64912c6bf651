import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ComponentConfig, MerchantRecord, MiniAppRecord, SandboxData, TemplateRecord, UserData } from './model.ts';

export const MAX_BULK_MERCHANTS = 10_000;

const SEED_PAGES = ['pages/index/index', 'pages/menu/index', 'pages/order/index', 'pages/me/index'];

const SEED_TEMPLATES: Omit<TemplateRecord, 'createdAt'>[] = [
  { templateId: 1, userVersion: '1.0.0', userDesc: '餐饮模板：点餐、会员、优惠券', pages: SEED_PAGES, subPackageRoots: ['member'] },
  { templateId: 2, userVersion: '1.1.0', userDesc: '餐饮模板：新增团购核销', pages: [...SEED_PAGES, 'pages/groupon/index'], subPackageRoots: ['member', 'groupon'] },
];

const SEED_MERCHANTS = ['川味小馆', '老北京炸酱面', '江南茶舍', '深夜食堂', '鲜果时光'];

/**
 * The sandbox platform's whole state: JSON-able data plus id minting, seeding and (optional) persistence
 * to a file. Rules live in `rules/`; this class only holds and saves.
 */
export class SandboxState {
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    public data: SandboxData,
    private readonly file: string | undefined,
  ) {}

  /** A freshly seeded platform: one component app, 5 merchants with one mini-program each, 2 templates. */
  static seeded(component: ComponentConfig, file?: string): SandboxState {
    const state = new SandboxState(emptyData(component), file);
    state.seed();
    return state;
  }

  /** Loads `file` if it exists (keeping the component's registered fields from it), else seeds. */
  static async open(component: ComponentConfig, file: string | undefined): Promise<SandboxState> {
    if (!file) return SandboxState.seeded(component);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      const state = SandboxState.seeded(component, file);
      state.changed();
      return state;
    }
    const data = JSON.parse(text) as Omit<SandboxData, 'users'> & { users?: UserData };
    if (data.version !== 1 || typeof data.apps !== 'object') throw new Error(`${file} is not a sandbox state file`);
    // Files written before a field existed: the defaults fill in what they lack.
    data.component = { ...component, ...data.component };
    return new SandboxState({ ...data, users: data.users ?? emptyUsers() }, file);
  }

  get component(): ComponentConfig {
    return this.data.component;
  }

  /** A random credential value: `prefix` + 32 hex characters. */
  secret(prefix: string): string {
    return `${prefix}${randomBytes(16).toString('hex')}`;
  }

  app(appId: string): MiniAppRecord | undefined {
    return own(this.data.apps, appId);
  }

  /** Adds `count` merchants, each with one mini-program. */
  createMerchants(count: number, namePrefix = '商家'): MerchantRecord[] {
    const created: MerchantRecord[] = [];
    for (let i = 0; i < count; i++) {
      const serial = ++this.data.serial;
      const merchantId = `m${String(serial).padStart(6, '0')}`;
      const appId = `ks${String(serial).padStart(16, '0')}`;
      const name = i < SEED_MERCHANTS.length && namePrefix === 'seed' ? SEED_MERCHANTS[i]! : `${namePrefix} ${serial}`;
      const merchant: MerchantRecord = { merchantId, name, appIds: [appId] };
      this.data.merchants[merchantId] = merchant;
      this.data.apps[appId] = {
        appId,
        name: `${name}小程序`,
        merchantId,
        serverDomains: { request: [], socket: [], uploadFile: [], downloadFile: [], udp: [] },
        webviewDomains: [],
        canRollback: false,
        capabilities: {},
      };
      created.push(merchant);
    }
    this.changed();
    return created;
  }

  addTemplate(userVersion: string, userDesc: string, structure: Pick<TemplateRecord, 'pages' | 'subPackageRoots'> = {}): TemplateRecord {
    const templateId = Math.max(0, ...this.data.templates.map((t) => t.templateId)) + 1;
    const template: TemplateRecord = { templateId, userVersion, userDesc, createdAt: Date.now(), ...structure };
    this.data.templates.push(template);
    this.changed();
    return template;
  }

  /** Back to a freshly seeded platform, keeping the component's configuration. */
  reset(): void {
    this.data = emptyData(this.data.component);
    this.seed();
  }

  /** Marks the state dirty: saved to the file (if any) shortly after. */
  changed(): void {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, 100);
    this.saveTimer.unref();
  }

  /** Writes pending changes now. */
  async flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      await this.save();
    }
    await this.saving;
  }

  private save(): Promise<void> {
    const file = this.file;
    if (!file) return Promise.resolve();
    const text = JSON.stringify(this.data);
    this.saving = this.saving.then(async () => {
      await mkdir(dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, text, { mode: 0o600 });
      await rename(temporary, file);
    });
    return this.saving;
  }

  private seed(): void {
    const now = Date.now();
    this.data.templates = SEED_TEMPLATES.map((t) => ({ ...t, createdAt: now }));
    this.createMerchants(SEED_MERCHANTS.length, 'seed');
  }
}

function emptyData(component: ComponentConfig): SandboxData {
  return {
    version: 1,
    component: { ...component },
    merchants: {},
    apps: {},
    templates: [],
    credentials: {
      tickets: {},
      componentTokens: {},
      preAuthCodes: {},
      authorizationCodes: {},
      authorizerTokens: {},
      refreshTokens: {},
      livePairs: {},
    },
    ticketPushStarted: false,
    serial: 0,
    users: emptyUsers(),
  };
}

function emptyUsers(): UserData {
  return { users: {}, jsCodes: {}, sessions: {}, messages: {}, openIdKey: randomBytes(32).toString('base64'), serial: 0 };
}

/** `record[key]` for own keys only: request input never reaches `__proto__` or `constructor`. */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
