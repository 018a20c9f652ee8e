import { describe, expect, it } from 'vitest';
import { checkMessageForm, type MessageForm } from './message-form.ts';

const form = (changes: Partial<MessageForm> = {}): MessageForm => ({
  body: 'hello',
  format: 'text',
  rows: [{ name: '', value: '' }],
  messageId: '',
  correlationId: '',
  expiresInMinutes: '',
  ack: 'full',
  ...changes,
});

describe('the cloud-to-device message form', () => {
  it('when only a text body is given, then it is sent with the defaults and no properties', () => {
    expect(checkMessageForm(form())).toEqual({
      request: { body: 'hello', format: 'text', properties: {}, ack: 'full' },
    });
  });

  it('when properties and ids are typed, then named rows and trimmed ids are sent, the expiry in seconds', () => {
    const { request } = checkMessageForm(
      form({
        rows: [
          { name: ' colour ', value: 'red ' },
          { name: '  ', value: 'dropped' },
        ],
        messageId: ' m-1 ',
        correlationId: 'c-1',
        expiresInMinutes: '90',
        ack: 'none',
      }),
    );
    expect(request).toEqual({
      body: 'hello',
      format: 'text',
      properties: { colour: 'red ' },
      messageId: 'm-1',
      correlationId: 'c-1',
      expiresInSeconds: 5400,
      ack: 'none',
    });
  });

  it('when a JSON body is not JSON, then that is the problem; a text body is never checked', () => {
    expect(checkMessageForm(form({ format: 'json', body: '{' })).jsonProblem).toMatch(
      /^The body is not valid JSON/,
    );
    expect(checkMessageForm(form({ format: 'json', body: '{"a":1}' })).jsonProblem).toBeUndefined();
    expect(checkMessageForm(form({ body: '{' })).jsonProblem).toBeUndefined();
  });

  it('when the expiry is not 1 minute to two days, then it says the range', () => {
    expect(checkMessageForm(form({ expiresInMinutes: '0' })).expiryProblem).toBe(
      'Expiry is 1 to 2,880 minutes (two days).',
    );
    expect(checkMessageForm(form({ expiresInMinutes: '2881' })).expiryProblem).toBeDefined();
    expect(checkMessageForm(form({ expiresInMinutes: '1.5' })).expiryProblem).toBeDefined();
    expect(checkMessageForm(form({ expiresInMinutes: '2880' })).expiryProblem).toBeUndefined();
  });
});
