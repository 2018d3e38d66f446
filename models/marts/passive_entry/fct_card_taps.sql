{{ config(materialized='incremental', unique_key='tap_id') }}

{#- One row per key-card tap, pseudonymized, with vehicle attributes. -#}

{{ access_analytics.pseudonymized_sessions(
    ref('int_card_taps_sessionized'),
    'tap_id',
    [
        'tapped_at', 'tap_date', 'firmware_version',
        'outcome', 'latency_ms', 'unlocked_at', 'source_ingest_date',
    ],
) }}
