{#- One row per firmware version of the newest release registry, with its predecessor. -#}

select
    releases.firmware_version,
    releases.released_on,
    releases.channel,
    releases.predecessor_version,
    first_seen.first_seen_on
from {{ ref('int_firmware_releases_ordered') }} as releases
left join {{ ref('int_firmware_versions_first_seen') }} as first_seen
    on releases.firmware_version = first_seen.firmware_version
