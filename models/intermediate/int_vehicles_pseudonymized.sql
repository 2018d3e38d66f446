{#-
    The newest vehicle registry with each VIN's keyed pseudonym, the join
    point between sessions (which still carry the VIN) and the marts (which
    only carry vehicle_key).
-#}

select
    vin,
    {{ access_analytics.pseudonym('vin') }} as vehicle_key,
    model,
    region,
    access_hw,
    delivered_on
from {{ ref('stg_raw__vehicles') }}
