-- Provisioning enrollments and registrations are written from Twinscope too: their audit
-- records name the record ('group', 'individual' or 'registration', and its id); device_id
-- stays '' for them, as for a configuration's.
ALTER TABLE audit_entries ADD COLUMN provisioning_kind text;
ALTER TABLE audit_entries ADD COLUMN provisioning_id text;
