/** Entry point of the `convlens` executable. */
import { run } from './main';

void run(process.argv.slice(2)).then(({ code, output }) => {
  (code === 0 ? process.stdout : process.stderr).write(`${output}\n`);
  process.exitCode = code;
});
