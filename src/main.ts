/**
 * `npm start`: the whole product on embedded defaults. Today that is the local Kuaishou Open Platform
 * sandbox (state kept in ./data/sandbox.json); the provider server and the console join here with their
 * issues, wired to the sandbox automatically.
 */
import { buildSandbox } from './sandbox/app.ts';
import { SandboxConfigError, sandboxOptionsFromEnv } from './sandbox/config.ts';

async function main(): Promise<void> {
  let options;
  try {
    options = sandboxOptionsFromEnv({ SANDBOX_STATE_FILE: './data/sandbox.json', ...process.env });
  } catch (error) {
    if (error instanceof SandboxConfigError) {
      console.error(`ks-isv: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const sandbox = await buildSandbox(options);
  let url: string;
  try {
    url = await sandbox.listen();
  } catch (error) {
    const code = (error as { code?: string }).code;
    console.error(code === 'EADDRINUSE' ? `ks-isv: port ${options.port} is in use; set SANDBOX_PORT to another port` : `ks-isv: ${String(error)}`);
    process.exit(1);
  }
  console.log(`ks-isv — Kuaishou mini-program service provider platform

  Kuaishou Open Platform sandbox   ${url}/sandbox
  sandbox control API              ${url}/sandbox/api/state
  state file                       ${options.stateFile}

The provider server and the console arrive with issues #4 and #6. Stop with Ctrl-C.`);
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
