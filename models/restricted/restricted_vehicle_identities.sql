{#-
    The only place where a pseudonym maps back to a VIN
    (docs/metrics.md#privacy): one row per registered vehicle. Lives in its own schema so
    access can be granted to the engineers allowed to re-identify vehicles.
-#}

select
    vehicle_key,
    vin,
    model,
    region,
    access_hw
from {{ ref('int_vehicles_pseudonymized') }}
