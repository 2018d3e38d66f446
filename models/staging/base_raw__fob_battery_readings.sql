{{ access_analytics.assert_raw_table_matches_contract('fob_battery_readings', 'ingest_date') }}

{#-
    Every raw fob battery reading as read, with the file it came from and the
    first rule of RAW_CONTRACT.md "What is invalid" that it breaks (null when valid).
-#}

with

source as (

    select
        reading_id,
        vin,
        fob_id,
        read_at,
        received_at,
        voltage_mv,
        temperature_c,
        firmware_version,
        cast(ingest_date as date) as ingest_date,
        {{ access_analytics.raw_source_file() }} as source_file,
        {{ access_analytics.raw_source_row_number() }} as source_row_number
    from {{ source('raw', 'fob_battery_readings') }}

),

final as (

    select
        *,
        {{ access_analytics.first_broken_rule([
            ('missing_required',
                access_analytics.is_missing_text('reading_id')
                ~ ' or ' ~ access_analytics.is_missing_text('vin')
                ~ ' or ' ~ access_analytics.is_missing_text('fob_id')
                ~ ' or read_at is null or received_at is null or voltage_mv is null'
                ~ ' or ' ~ access_analytics.is_missing_text('firmware_version')),
            ('malformed_id',
                'not ' ~ access_analytics.regexp_full_match('vin', '[A-HJ-NPR-Z0-9]{17}')
                ~ ' or not ' ~ access_analytics.regexp_full_match('reading_id', '[0-9a-f]{32}')),
            ('out_of_range',
                access_analytics.is_outside_range('voltage_mv', 1800, 3400)
                ~ ' or ' ~ access_analytics.is_outside_range('temperature_c', -40, 60)),
            ('future_event',
                'read_at > ' ~ access_analytics.add_seconds('received_at', 300)),
            ('too_late',
                'read_at < ' ~ access_analytics.add_seconds('received_at', -30 * 86400)),
        ]) }} as quarantine_reason
    from source

)

select * from final
