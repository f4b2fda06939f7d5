/*  batch.h - cairn-batch's commands (main.c dispatches to them).         */
#ifndef CAIRN_BATCH_BATCH_H_INCLUDED
#define CAIRN_BATCH_BATCH_H_INCLUDED

/*  cairn-batch run ... (run.c): argv[0] is "run"; returns the exit
    status: 0 if every task succeeded, 1 if not, 2 for bad usage or a
    malformed job file.                                                    */
int batch_run (int argc, char **argv);

/*  cairn-batch serve ... (serve.c): the queue service; returns the exit
    status.                                                                */
int batch_serve (int argc, char **argv);

#endif
