import { describe, expect, it } from 'vitest';
import { fileNameOf } from './download.ts';

describe('the name a download is saved as', () => {
  it('when the BFF names the file plainly, then that name is used', () => {
    expect(fileNameOf('attachment; filename="devices-job-1.jsonl"')).toBe('devices-job-1.jsonl');
    expect(fileNameOf('attachment; filename=devices.jsonl')).toBe('devices.jsonl');
  });

  it('when a UTF-8 name stands beside the ASCII one, then the UTF-8 name wins', () => {
    expect(
      fileNameOf(
        `attachment; filename="capteurs-_t_.jsonl"; filename*=UTF-8''capteurs-%C3%A9t%C3%A9.jsonl`,
      ),
    ).toBe('capteurs-été.jsonl');
  });

  it('when the UTF-8 name is badly encoded, then the ASCII name is used', () => {
    expect(fileNameOf(`attachment; filename="a.jsonl"; filename*=UTF-8''%E0%A4%A`)).toBe('a.jsonl');
  });

  it('when a name holds folders or escaped quotes, then it is saved as a plain name', () => {
    expect(fileNameOf('attachment; filename="../../etc/passwd"')).toBe('_.._etc_passwd');
    expect(fileNameOf('attachment; filename="say \\"hi\\".txt"')).toBe('say "hi".txt');
  });

  it('when there is no header or it names no file, then there is no name', () => {
    expect(fileNameOf(null)).toBeUndefined();
    expect(fileNameOf('attachment')).toBeUndefined();
    expect(fileNameOf('attachment; filename=""')).toBeUndefined();
  });
});
