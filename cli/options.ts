// Commander checks required options before unknown ones, so a misspelt
// `--jurisdication` used to be reported as "--jurisdiction not specified".
// Required options are checked here instead, after commander has refused
// unknown options (with its suggestion), and --help marks them.
import { Help, type Command, type Option } from 'commander';

const required = new WeakSet<Option>();

export function checkRequiredAfterUnknown(cmd: Command): void {
  const options = cmd.options as readonly Option[];
  for (const option of options) {
    if (!option.mandatory) continue;
    option.mandatory = false;
    required.add(option);
  }
  if (!options.some((o) => required.has(o))) return;
  cmd.configureHelp({ optionDescription: (option) => describe(option) });
  cmd.hook('preAction', (hooked) => {
    for (const option of hooked.options as readonly Option[]) {
      if (required.has(option) && hooked.getOptionValue(option.attributeName()) === undefined)
        hooked.error(`required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    }
  });
}

function describe(option: Option): string {
  const text = new Help().optionDescription(option);
  return required.has(option) ? `${text} (required)` : text;
}
