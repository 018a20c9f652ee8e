import { describe, expect, it } from 'vitest';
import { checkLogForm, logText } from './log-query.ts';

describe('the module logs form', () => {
  it('when everything typed is right, then the agent is asked for exactly that', () => {
    expect(checkLogForm({ tail: '50', filter: 'error|warn', since: '15m' })).toEqual({
      query: { tail: 50, filter: 'error|warn', since: '15m' },
      tailOk: true,
      sinceOk: true,
    });
  });

  it('when the fields are empty, then only the tail is asked for', () => {
    expect(checkLogForm({ tail: '200', filter: '', since: '' }).query).toEqual({ tail: 200 });
  });

  it('when a field is wrong, then it is flagged and left out of the query (the tail falls back to 200)', () => {
    const checked = checkLogForm({ tail: '5001', filter: '(', since: 'yesterday' });
    expect(checked).toEqual({
      query: { tail: 200 },
      tailOk: false,
      sinceOk: false,
      filterProblem: 'Not a regular expression.',
    });
    expect(checkLogForm({ tail: '2.5', filter: '', since: '' }).tailOk).toBe(false);
    expect(checkLogForm({ tail: '0', filter: '', since: '' }).tailOk).toBe(false);
  });
});

describe('log lines as shown', () => {
  it('when a line has a syslog level, then its name is shown; an unknown level as its number', () => {
    expect(
      logText([
        { at: '2025-06-01T12:00:00Z', level: 3, text: 'boom' },
        { at: '2025-06-01T12:00:01Z', level: 9, text: 'odd' },
      ]),
    ).toBe('2025-06-01T12:00:00Z  error  boom\n2025-06-01T12:00:01Z  9  odd');
  });
});
