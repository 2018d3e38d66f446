{{ access_analytics.assert_raw_table_matches_contract('firmware_releases', partitions_read='newest') }}

{#- The firmware release registry as of its newest snapshot. -#}

{{ access_analytics.newest_registry_snapshot('firmware_releases') }}
