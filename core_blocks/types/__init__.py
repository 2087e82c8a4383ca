"""The core's own block types, registered through core_blocks.plugin like any plugin's."""
