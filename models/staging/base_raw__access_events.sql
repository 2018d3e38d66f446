{{ access_analytics.assert_raw_table_matches_contract('access_events', 'ingest_date') }}

{#-
    Every raw access event as read, with the file it came from and the first
    rule of RAW_CONTRACT.md "What is invalid" that it breaks (null when valid).
-#}
{%- set event_types = [
    'key_detected', 'unlock_zone_entered', 'auth_succeeded', 'auth_failed',
    'handle_pulled', 'door_unlocked', 'door_opened', 'door_closed',
    'lock_zone_exited', 'walkaway_suppressed', 'door_locked', 'nfc_tapped',
] -%}
{%- set lock_sources = [
    'passive', 'card', 'app', 'fob_button', 'walkaway', 'drive_away',
] -%}

with

source as (

    select
        event_id,
        vin,
        event_at,
        received_at,
        event_type,
        key_id,
        key_type,
        radio,
        rssi_dbm,
        distance_m,
        lock_source,
        detail,
        firmware_version,
        cast(ingest_date as date) as ingest_date,
        {{ access_analytics.raw_source_file() }} as source_file,
        {{ access_analytics.raw_source_row_number() }} as source_row_number
    from {{ source('raw', 'access_events') }}

),

final as (

    select
        *,
        {{ access_analytics.first_broken_rule([
            ('missing_required',
                access_analytics.is_missing_text('event_id')
                ~ ' or ' ~ access_analytics.is_missing_text('vin')
                ~ ' or event_at is null or received_at is null'
                ~ ' or ' ~ access_analytics.is_missing_text('event_type')
                ~ ' or ' ~ access_analytics.is_missing_text('firmware_version')),
            ('unknown_value',
                access_analytics.is_not_listed('event_type', event_types)
                ~ ' or ' ~ access_analytics.is_not_listed('key_type', ['phone', 'fob', 'card'])
                ~ ' or ' ~ access_analytics.is_not_listed('radio', ['ble', 'uwb', 'nfc', 'lf'])
                ~ ' or ' ~ access_analytics.is_not_listed('lock_source', lock_sources)),
            ('malformed_id',
                'not ' ~ access_analytics.regexp_full_match('vin', '[A-HJ-NPR-Z0-9]{17}')
                ~ ' or not ' ~ access_analytics.regexp_full_match('event_id', '[0-9a-f]{32}')),
            ('out_of_range',
                access_analytics.is_outside_range('rssi_dbm', -127, 20)
                ~ ' or ' ~ access_analytics.is_outside_range('distance_m', 0, 100)),
            ('future_event',
                'event_at > ' ~ access_analytics.add_seconds('received_at', 300)),
            ('too_late',
                'event_at < ' ~ access_analytics.add_seconds('received_at', -30 * 86400)),
        ]) }} as quarantine_reason
    from source

)

select * from final
