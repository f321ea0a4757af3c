import { EnvironmentValidationError } from '@app/config';
import { DomainError } from '@app/observability';
import { UsageError } from './cli-support';
import { DRIFT_USAGE, driftCommand } from './drift';
import { PROFILE_USAGE, profileCommand } from './profile';
import { VALIDATE_USAGE, validateCommand } from './validate';

const USAGE = `ml-cli: model validation and monitoring commands, with the same environment as the server.

usage: node dist/apps/ml-cli/src/main.js <command> [options]   (or: npm run cli -- <command> [options])

  ${PROFILE_USAGE}

  ${DRIFT_USAGE}

  ${VALIDATE_USAGE}
`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  profile: profileCommand,
  drift: driftCommand,
  validate: validateCommand,
};

/** Exit codes: what the command returns (drift: 0 no drift, 1 drift; validate: 0 pass, 1 fail), 2 for every error. */
async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    process.stderr.write(
      `${name === undefined ? 'no command given' : `unknown command "${name}"`}\n\n${USAGE}`,
    );
    return 2;
  }
  return command(args);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof EnvironmentValidationError) process.stderr.write(`${error.message}\n`);
    else if (error instanceof UsageError || error instanceof DomainError)
      process.stderr.write(`error: ${error.message}\n`);
    else if (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
      process.stderr.write(`error: ${error.message}\n\n${USAGE}`);
    else process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(2);
  },
);
