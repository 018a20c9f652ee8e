import { IMPORT_MAX_BYTES, type ImportCounts } from '@twinscope/contract';
import { byteSize } from '../../lib/format.ts';

/** Why a chosen file cannot be previewed, before anything is read or sent: too large, or empty. */
export function fileProblem(file: { name: string; size: number }): string | undefined {
  if (file.size > IMPORT_MAX_BYTES)
    return `${file.name} is ${byteSize(file.size)}: an import file may hold at most ${byteSize(IMPORT_MAX_BYTES)}. Split it into smaller files and import them one after the other.`;
  if (file.size === 0) return `${file.name} is empty.`;
  return undefined;
}

/** The lines a file holds, blank ones aside, as the BFF counts them. */
export function lineCount(text: string): number {
  let count = 0;
  for (const line of text.split(/\r?\n/)) if (line.trim() !== '') count++;
  return count;
}

/** Whether an import would change the hub at all (refused lines change nothing). */
export const changesSomething = (counts: ImportCounts) =>
  counts.create + counts.update + counts.delete > 0;

const n = (value: number) => value.toLocaleString();

/** What a previewed import would do, in one line: "Will create 3, update 1, delete 0, refused 1". */
export function countsSummary(counts: ImportCounts): string {
  return `Will create ${n(counts.create)}, update ${n(counts.update)}, delete ${n(counts.delete)}, refused ${n(counts.refused)} (of ${n(counts.lines)} ${counts.lines === 1 ? 'line' : 'lines'}).`;
}

const identities = (value: number) => `${n(value)} ${value === 1 ? 'identity' : 'identities'}`;

/** What the confirmation says before an import runs: what it will do, and what cannot be undone. */
export function runSummary(counts: ImportCounts): string[] {
  const done = [
    counts.create > 0 && `create ${identities(counts.create)}`,
    counts.update > 0 && `update ${identities(counts.update)}`,
    counts.delete > 0 && `delete ${identities(counts.delete)}`,
  ].filter((part): part is string => part !== false);
  const said =
    done.length === 0
      ? ['The hub will change nothing.']
      : [
          `The hub will ${done.length === 1 ? done[0] : `${done.slice(0, -1).join(', ')} and ${done.at(-1)}`}, as the file says.`,
        ];
  if (counts.refused > 0)
    said.push(
      `${n(counts.refused)} ${counts.refused === 1 ? 'line is' : 'lines are'} refused and will not be applied.`,
    );
  if (counts.delete > 0)
    said.push('A deleted device or module loses its twin and its keys: this cannot be undone.');
  return said;
}
