/** Finding the lab's programs and data files, naming the Debian package of any that is missing. */
import { access, constants } from 'node:fs/promises';
import { defaultSearchPath, findProgram } from './commands.js';
import type { RequiredFile } from './commands.js';
import { LabError } from './errors.js';
import { DEBIAN_PACKAGE_OF, REQUIRED_FILES } from './server-kinds.js';

async function isReadable(file: string): Promise<boolean> {
  try {
    await access(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Finds every program and required file, or throws one LabError that names each missing
 * program and the Debian package to install.
 */
export async function checkPrograms<P extends string>(
  programs: readonly P[],
  options: {
    searchPath?: string;
    files?: readonly RequiredFile[];
    /** Debian packages of programs that no server kind declares (e.g. the NATS cluster's). */
    debianPackages?: Readonly<Record<string, string>>;
  } = {},
): Promise<Record<P, string>> {
  const searchPath = options.searchPath ?? defaultSearchPath();
  const found = {} as Record<P, string>;
  const missing: { what: string; debianPackage: string }[] = [];
  const locations = await Promise.all(programs.map((program) => findProgram(program, searchPath)));
  programs.forEach((program, index) => {
    const location = locations[index];
    if (location) found[program] = location;
    else {
      const debianPackage =
        options.debianPackages?.[program] ?? DEBIAN_PACKAGE_OF[program] ?? 'unknown';
      missing.push({ what: program, debianPackage });
    }
  });
  for (const file of options.files ?? REQUIRED_FILES) {
    if (!(await isReadable(file.path))) {
      missing.push({ what: `${file.what} (${file.path})`, debianPackage: file.debianPackage });
    }
  }
  if (missing.length > 0) {
    const packages = [...new Set(missing.map((entry) => entry.debianPackage))].sort();
    const list = missing
      .map((entry) => `${entry.what} (Debian package ${entry.debianPackage})`)
      .join(', ');
    throw new LabError(`missing ${list}; install with: apt-get install ${packages.join(' ')}`, {
      debianPackage: packages.join(' '),
    });
  }
  return found;
}
