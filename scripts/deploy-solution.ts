/**
 * `npm run deploy-solution` — imports the Dynamics solution into an org and connects it to the sync server
 * (dynamics-solution/deploy/). Progress goes to stdout, the reason for a failure to stderr; the exit status
 * says which kind of failure it was (see --help).
 */
import { DeployFailure, deploy, EXIT } from '../dynamics-solution/deploy/run.ts';
import { DeployOptionError, parseDeployOptions, USAGE } from '../dynamics-solution/deploy/options.ts';

async function main(): Promise<number> {
  let options;
  try {
    options = parseDeployOptions(process.argv.slice(2), process.env);
  } catch (err) {
    if (!(err instanceof DeployOptionError)) throw err;
    process.stderr.write(`deploy-solution: ${err.problems.map((p) => `\n  - ${p}`).join('')}\n\nRun npm run deploy-solution -- --help for every option.\n`);
    return EXIT.badOptions;
  }
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  try {
    return await deploy(options, (text) => process.stdout.write(`${text}\n`));
  } catch (err) {
    if (!(err instanceof DeployFailure)) throw err;
    process.stderr.write(`deploy-solution: ${err.step} failed:\n  ${err.message.replace(/\n/g, '\n  ')}\n`);
    return err.exitCode;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`deploy-solution failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(EXIT.failed);
  },
);
