# master
