{#-
    The newest key registry with keyed pseudonyms of the key id and of the
    vehicle it is paired to (docs/metrics.md#key-fob-battery-health: a fob's vehicle is the one in the
    keys registry).
-#}

select
    key_id,
    {{ access_analytics.pseudonym('key_id') }} as key_key,
    vin,
    {{ access_analytics.pseudonym('vin') }} as vehicle_key,
    key_type,
    cell_lot
from {{ ref('stg_raw__keys') }}
