DROP TABLE family_exits;
