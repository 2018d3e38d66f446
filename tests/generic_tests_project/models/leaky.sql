-- A registered key id in clear, and an unregistered value shaped like a VIN.
select *
from (
    values
    ('fob-0001', 'Model 3', 1),
    ('ab12', 'WAUZZZ8V5KA000123', 2)
) as leaky (key_label, note, n)
