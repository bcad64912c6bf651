/** `npm run sandbox`: the sandbox platform alone, configured by SANDBOX_* variables. */
import { buildSandbox } from './app.ts';
import { SandboxConfigError, sandboxOptionsFromEnv } from './config.ts';

async function main(): Promise<void> {
  let options;
  try {
    options = sandboxOptionsFromEnv();
  } catch (error) {
    if (error instanceof SandboxConfigError) {
      process.stderr.write(`sandbox: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const sandbox = await buildSandbox(options, {
    logger: {
      debug: () => undefined,
      info: (fields, message) => process.stdout.write(`${message} ${JSON.stringify(fields)}\n`),
      warn: (fields, message) => process.stderr.write(`${message} ${JSON.stringify(fields)}\n`),
      error: (fields, message) => process.stderr.write(`${message} ${JSON.stringify(fields)}\n`),
    },
  });
  const url = await sandbox.listen();
  const { component } = sandbox.runtime.state;
  process.stdout.write(
    [
      `Kuaishou Open Platform sandbox listening on ${url}`,
      `  merchants and authorization state: ${url}/sandbox`,
      `  control API:                       ${url}/sandbox/api/state`,
      `  component app id:                  ${component.componentAppId}`,
      `  authorization-event URL:           ${component.authEventUrl || '(not set: PUT /sandbox/api/component {authEventUrl})'}`,
      `  message URL:                       ${component.messageUrl || '(not set)'}`,
      `  template back end (runtimeUrl):    ${component.runtimeUrl || '(not set: PUT /sandbox/api/component {runtimeUrl})'}`,
      `  mini-program simulator:            ${url}/sandbox/apps/<appId>`,
      options.stateFile ? `  state file:                        ${options.stateFile}` : '  state: in memory (set SANDBOX_STATE_FILE to keep it)',
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    void sandbox.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
