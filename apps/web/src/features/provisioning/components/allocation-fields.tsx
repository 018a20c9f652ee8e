import { Field, Input, Radio, RadioGroup, Select, Text } from '@fluentui/react-components';
import {
  AllocationPolicySchema,
  ReprovisionSchema,
  type AllocationPolicy,
  type Reprovision,
} from '@twinscope/contract';
import { ALLOCATION, REPROVISION } from '../enrollment-text.ts';
import type { FieldProps } from './attestation-fields.tsx';

const validation = (message: string | undefined) =>
  message ? { validationMessage: message, validationState: 'error' as const } : {};

/** Which hub a device is assigned to; a custom policy's webhook; and what re-registering does. */
export function AllocationFields({ form, editing, disabled, problemOf, onChange }: FieldProps) {
  const current = editing?.customAllocation;
  const webhookHint = current
    ? `Empty keeps the current one: ${current.webhook}${
        current.hasQuery
          ? ' (with a query, such as a function key, that is kept and not shown)'
          : ''
      }.`
    : 'The https URL DPS calls to choose the hub (an Azure Function’s URL with its code=, say).';
  return (
    <>
      <Field label="Allocation policy" hint={ALLOCATION[form.allocationPolicy].explain}>
        <Select
          value={form.allocationPolicy}
          disabled={disabled}
          onChange={(_e, d) => onChange({ allocationPolicy: d.value as AllocationPolicy })}
        >
          {AllocationPolicySchema.options.map((policy) => (
            <option key={policy} value={policy}>
              {ALLOCATION[policy].label}
            </option>
          ))}
        </Select>
      </Field>
      {editing && editing.allocationPolicy === null && (
        <Text size={200} className="muted">
          The enrollment names no policy, so DPS uses its own default; saving sets the one above.
        </Text>
      )}
      {form.allocationPolicy === 'custom' && (
        <div className="form-row">
          <Field
            label="Webhook URL"
            className="grow"
            required={!current}
            hint={webhookHint}
            {...validation(problemOf('webhookUrl'))}
          >
            <Input
              type="url"
              value={form.webhookUrl}
              disabled={disabled}
              placeholder={current ? current.webhook : 'https://'}
              onChange={(_e, d) => onChange({ webhookUrl: d.value })}
            />
          </Field>
          <Field label="API version" {...validation(problemOf('apiVersion'))}>
            <Input
              value={form.apiVersion}
              disabled={disabled}
              onChange={(_e, d) => onChange({ apiVersion: d.value })}
            />
          </Field>
        </div>
      )}
      <Field label="Reprovisioning" hint="When an already provisioned device registers again.">
        <RadioGroup
          value={form.reprovision}
          disabled={disabled}
          onChange={(_e, d) => onChange({ reprovision: d.value as Reprovision })}
        >
          {ReprovisionSchema.options.map((policy) => (
            <Radio
              key={policy}
              value={policy}
              label={
                <>
                  {REPROVISION[policy].label}{' '}
                  <span className="radio-explain muted">{REPROVISION[policy].explain}</span>
                </>
              }
            />
          ))}
        </RadioGroup>
      </Field>
    </>
  );
}
