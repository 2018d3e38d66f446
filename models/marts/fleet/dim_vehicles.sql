{#- One row per registered vehicle, by pseudonym (the newest registry snapshot). -#}

select
    vehicle_key,
    model,
    region,
    access_hw,
    delivered_on
from {{ ref('int_vehicles_pseudonymized') }}
