-- Automatic configurations are written from Twinscope too: their audit records name the
-- configuration (device_id stays '' for them, as module_id does for a device's own records).
ALTER TABLE audit_entries ADD COLUMN configuration_id text;
CREATE INDEX audit_entries_configuration ON audit_entries (configuration_id, seq DESC)
  WHERE configuration_id IS NOT NULL;
