/* Context-switch and empty-recvfrom costs, for the simulator's wasted wake-ups (sipsim/engine/costs.py).
 *
 *   cc -O2 -o ctxswitch bench/ctxswitch.c && ./ctxswitch     (bench/simulate.py --calibrate does it)
 *
 * lmbench's lat_ctx method: two processes pinned to one CPU pass a byte back and forth over two
 * pipes; a round trip is two context switches plus two write/read pairs, which are then timed alone
 * (one process, one pipe, no switch) and subtracted. Also times recvfrom(MSG_DONTWAIT) on an empty
 * UDP socket on 127.0.0.1 (it returns EAGAIN): what a woken loser of a herd does before it sleeps.
 * Run it in a private network namespace (the calibration does). SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <time.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec*1e9+t.tv_nsec;}
static int cmpd(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  int N=20000, R=9; cpu_set_t s; CPU_ZERO(&s); CPU_SET(0,&s); sched_setaffinity(0,sizeof s,&s);
  double rt[9], sys1[9], empty[9];
  for(int r=0;r<R;r++){
    int a[2],b[2]; pipe(a); pipe(b); char c='x';
    pid_t pid=fork();
    if(!pid){ for(int i=0;i<N;i++){read(a[0],&c,1);write(b[1],&c,1);} _exit(0);}
    double t0=now(); for(int i=0;i<N;i++){write(a[1],&c,1);read(b[0],&c,1);} double t1=now();
    waitpid(pid,0,0); rt[r]=(t1-t0)/N;
    /* same syscalls without a switch: write then read on one pipe in one process */
    int p[2]; pipe(p); t0=now(); for(int i=0;i<N;i++){write(p[1],&c,1);read(p[0],&c,1);} t1=now(); sys1[r]=(t1-t0)/N;
    close(a[0]);close(a[1]);close(b[0]);close(b[1]);close(p[0]);close(p[1]);
    int u=socket(AF_INET,SOCK_DGRAM,0); struct sockaddr_in sa={.sin_family=AF_INET,.sin_port=0}; sa.sin_addr.s_addr=htonl(INADDR_LOOPBACK);
    bind(u,(void*)&sa,sizeof sa); char buf[65535]; struct sockaddr_in from; socklen_t fl;
    t0=now(); for(int i=0;i<N;i++){fl=sizeof from; recvfrom(u,buf,sizeof buf,MSG_DONTWAIT,(void*)&from,&fl);} t1=now(); empty[r]=(t1-t0)/N;
    close(u);
  }
  qsort(rt,R,sizeof(double),cmpd); qsort(sys1,R,sizeof(double),cmpd); qsort(empty,R,sizeof(double),cmpd);
  printf("pipe round trip (2 switches + 2x write/read): median %.0f ns (min %.0f max %.0f)\n",rt[R/2],rt[0],rt[R-1]);
  printf("write+read, no switch: median %.0f ns\n",sys1[R/2]);
  printf("=> one context switch: median %.0f ns (min %.0f)\n",(rt[R/2]-2*sys1[R/2])/2,(rt[0]-2*sys1[0])/2);
  printf("recvfrom on an empty UDP socket (EAGAIN): median %.0f ns (min %.0f max %.0f)\n",empty[R/2],empty[0],empty[R-1]);
  return 0;
}
