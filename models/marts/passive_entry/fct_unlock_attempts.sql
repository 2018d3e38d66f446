{{ config(materialized='incremental', unique_key='attempt_id') }}

{#- One row per passive-entry attempt, pseudonymized, with vehicle attributes. -#}

{{ access_analytics.pseudonymized_sessions(
    ref('int_unlock_attempts_sessionized'),
    'attempt_id',
    [
        'attempt_at', 'attempt_date', 'key_type', 'radio', 'firmware_version',
        'outcome', 'latency_ms', 'handle_wait', 'unlocked_at', 'source_ingest_date',
    ],
) }}
