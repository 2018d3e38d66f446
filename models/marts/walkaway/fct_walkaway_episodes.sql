{{ config(materialized='incremental', unique_key='episode_id') }}

{#- One row per walk-away lock episode, pseudonymized, with vehicle attributes. -#}

{{ access_analytics.pseudonymized_sessions(
    ref('int_walkaway_episodes_sessionized'),
    'episode_id',
    [
        'started_at', 'episode_date', 'key_type', 'radio', 'firmware_version',
        'outcome', 'is_eligible', 'suppression_reason', 'time_to_lock_ms',
        'resolved_at', 'resolving_event_type', 'source_ingest_date',
    ],
) }}
