{{ config(materialized='incremental', unique_key='tap_id') }}

{#-
    One row per key-card tap, pseudonymized, with vehicle attributes. A tap's
    intent depends on the vehicle's earlier lock state events, which may
    arrive late: stored taps whose intent changed are rewritten too.
-#}

{{ access_analytics.pseudonymized_sessions(
    ref('int_card_taps_with_intent'),
    'tap_id',
    [
        'tapped_at', 'tap_date', 'firmware_version',
        'outcome', 'latency_ms', 'unlocked_at', 'source_ingest_date', 'tap_intent',
    ],
    recheck_columns=['tap_intent'],
) }}
