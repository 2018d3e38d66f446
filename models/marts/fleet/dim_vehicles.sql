{#- One row per registered vehicle, by pseudonym (the newest registry snapshot). -#}

with

vehicles as (select * from {{ ref('int_vehicles_pseudonymized') }}),

final as (

    select
        vehicle_key,
        model,
        region,
        access_hw,
        delivered_on
    from vehicles

)

select * from final
