import { describe, expect, it } from 'vitest';
import { ApiError } from './api-client.ts';
import { createQueryClient } from './query-client.ts';

const throttled = new ApiError(429, {
  code: 'throttled',
  message: "The hub's queries are spent.",
  requestId: 'r1',
  retryAfterSeconds: 1,
});

describe('the console’s query client', () => {
  it('when the BFF answers 429 with Retry-After, then the query waits that long and asks again', async () => {
    const client = createQueryClient();
    const asked: number[] = [];
    const started = Date.now();
    const result = await client.fetchQuery({
      queryKey: ['devices', 'list', 'throttled'],
      queryFn: () => {
        asked.push(Date.now() - started);
        if (asked.length < 2) throw throttled;
        return 'page';
      },
    });
    expect(result).toBe('page');
    expect(asked).toHaveLength(2);
    expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(950);
  });

  it('when a request is refused for good (403, 404), then it is not asked again', async () => {
    const client = createQueryClient();
    let asked = 0;
    await expect(
      client.fetchQuery({
        queryKey: ['devices', 'detail', 'x'],
        queryFn: () => {
          asked++;
          throw new ApiError(404, { code: 'not_found', message: 'gone', requestId: 'r2' });
        },
      }),
    ).rejects.toThrow('gone');
    expect(asked).toBe(1);
  });
});
